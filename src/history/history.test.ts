import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DrainedRecord, HistoryEvent } from "./events.js";
import {
  decodeDrained,
  decodeDrainedBytes,
  encodeDrained,
  readDrain,
  readDrainBatches,
  readHistory,
  readJsonLines,
} from "./reader.js";
import { HistoryWriter } from "./writer.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kafka-chaos-history-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

function invoke(from: number): HistoryEvent {
  return { type: "invoke", producer: 0, from, to: from, time: from };
}

describe("HistoryWriter + readHistory", () => {
  it("round-trips events, appending to an existing file", async () => {
    const path = join(dir, "history.jsonl");
    const events: HistoryEvent[] = [
      {
        type: "run",
        runId: "r",
        profile: "p",
        seed: 7,
        startedAt: "t",
        topics: { input: "in" },
        acks: -1,
      },
      invoke(0),
      { type: "ok", producer: 0, from: 0, to: 0, time: 3, offsets: { "0": "42" } },
      { type: "fault", phase: "start", fault: "cut", target: "b1", time: 4 },
    ];
    const first = await HistoryWriter.open(path);
    for (const e of events.slice(0, 2)) first.append(e);
    await first.close();
    const second = await HistoryWriter.open(path);
    for (const e of events.slice(2)) second.append(e);
    await second.close();

    expect(await collect(readHistory(path))).toEqual(events);
  });

  it("writes nothing until flushed, then the whole buffer at once", async () => {
    const path = join(dir, "history.jsonl");
    const writer = await HistoryWriter.open(path);
    writer.append(invoke(0));
    writer.append(invoke(1));
    expect(await readFile(path, "utf8")).toBe("");
    await writer.flush();
    expect(await readFile(path, "utf8")).toBe(
      JSON.stringify(invoke(0)) + "\n" + JSON.stringify(invoke(1)) + "\n",
    );
    await writer.close();
  });

  it("keeps every line, in order, when flushes overlap", async () => {
    const path = join(dir, "history.jsonl");
    const writer = await HistoryWriter.open(path);
    const flushes: Promise<void>[] = [];
    for (let batch = 0; batch < 50; batch++) {
      for (let i = 0; i < 20; i++) writer.append(invoke(batch * 20 + i));
      flushes.push(writer.flush());
    }
    await Promise.all(flushes);
    await writer.close();

    const seqs = (await collect(readHistory(path))).map((e) => (e as { from: number }).from);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("flushSync writes what is buffered, alongside a flush under way", async () => {
    const path = join(dir, "history.jsonl");
    const writer = await HistoryWriter.open(path);
    writer.append(invoke(0));
    const pending = writer.flush();
    writer.append(invoke(1));
    writer.flushSync();
    await pending;
    await writer.close();

    const seqs = (await collect(readHistory(path))).map((e) => (e as { from: number }).from);
    expect(seqs.sort()).toEqual([0, 1]);
  });

  it("refuses appends after close", async () => {
    const writer = await HistoryWriter.open(join(dir, "history.jsonl"));
    await writer.close();
    expect(() => writer.append(invoke(0))).toThrow(/closed/);
  });
});

describe("readJsonLines", () => {
  it("skips a truncated last line (crash mid-write) and blank lines", async () => {
    const path = join(dir, "history.jsonl");
    await writeFile(path, JSON.stringify(invoke(0)) + "\n\n" + JSON.stringify(invoke(1)) + "\n");
    await appendFile(path, JSON.stringify(invoke(2)).slice(0, 15));
    expect(await collect(readHistory(path))).toEqual([invoke(0), invoke(1)]);
  });

  it("rejects a malformed line in the middle, naming the file and line", async () => {
    const path = join(dir, "history.jsonl");
    await writeFile(path, `{"a":1}\n{"a":2}\n{"a":\n{"a":4}\n`);
    await expect(collect(readJsonLines(path))).rejects.toThrow(`${path}:3: malformed line`);
  });

  it("rejects a malformed last line that was completely written", async () => {
    const path = join(dir, "history.jsonl");
    await writeFile(path, `{"a":1}\nnot json\n`);
    await expect(collect(readJsonLines(path))).rejects.toThrow(`${path}:2:`);
  });

  it("reads a complete last line that lacks its newline", async () => {
    const path = join(dir, "lines.jsonl");
    await writeFile(path, `{"a":1}\n{"a":2}`);
    expect(await collect(readJsonLines(path))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("reads an empty file as no lines", async () => {
    const path = join(dir, "empty.jsonl");
    await writeFile(path, "");
    expect(await collect(readJsonLines(path))).toEqual([]);
  });

  it("reads CRLF line ends, and lines longer than a read chunk", async () => {
    const path = join(dir, "history.jsonl");
    const long = { type: "end", time: 1, reason: "error", error: "x".repeat(3_000_000) };
    await writeFile(path, `${JSON.stringify(invoke(0))}\r\n${JSON.stringify(long)}\n\r\n`);
    expect(await collect(readHistory(path))).toEqual([invoke(0), long]);
  });

  it("rejects a malformed line followed by more lines past a read chunk", async () => {
    const path = join(dir, "lines.jsonl");
    const filler = `{"a":"${"y".repeat(100)}"}\n`.repeat(20_000); // ~2 MB
    await writeFile(path, `{"a":1}\n{"a":\n${filler}`);
    await expect(collect(readJsonLines(path))).rejects.toThrow(`${path}:2: malformed line`);
  });

  it("rejects history lines that are not events", async () => {
    const path = join(dir, "history.jsonl");
    await writeFile(path, `${JSON.stringify(invoke(0))}\n[1,2]\n`);
    await expect(collect(readHistory(path))).rejects.toThrow(
      `${path}:2: malformed line: not a JSON object`,
    );
    await writeFile(path, `{"type":"processed","outcome":"ok"}\n`);
    await expect(collect(readHistory(path))).rejects.toThrow(
      `${path}:1: malformed line: processed`,
    );
  });
});

describe("drain records", () => {
  it("encode as compact JSON and decode back", async () => {
    const records: DrainedRecord[] = [
      { partition: 0, offset: 0, producer: 1, seq: 2 },
      { partition: 5, offset: 123_456_789_012, producer: 0, seq: 99 },
    ];
    expect(encodeDrained(records[0]!)).toBe(`{"p":0,"o":0,"pr":1,"s":2}`);
    const path = join(dir, "drain.jsonl");
    await writeFile(path, records.map((r) => encodeDrained(r) + "\n").join(""));
    expect(await collect(readDrain(path))).toEqual(records);
  });

  it("decode their own compact format from bytes exactly as JSON.parse does", () => {
    const lines = [
      `{"p":0,"o":0,"pr":0,"s":0}`,
      `{"p":12,"o":123456789012345,"pr":3,"s":999999999}`,
      `{"p":1,"o":2,"pr":-1,"s":-7}`,
    ];
    for (const line of lines) {
      const bytes = Buffer.from(`xx${line}yy`);
      expect(decodeDrainedBytes(bytes, 2, bytes.length - 2)).toEqual(
        decodeDrained(JSON.parse(line)),
      );
    }
  });

  it("leave any other spelling to JSON.parse, with the same result or error", async () => {
    const other = [
      `{"p": 1, "o": 2, "pr": 0, "s": 3}`,
      `{"o":2,"p":1,"s":3,"pr":0}`,
      `{"p":1,"o":2,"pr":0,"s":3,"x":true}`,
      `{"p":1,"o":2e3,"pr":0,"s":3.0}`,
      `{"p":1,"o":9007199254740993,"pr":0,"s":3}`,
      ` {"p":1,"o":2,"pr":0,"s":3}`,
    ];
    for (const line of other) {
      expect(decodeDrainedBytes(Buffer.from(line), 0, line.length)).toBeUndefined();
    }
    const path = join(dir, "drain.jsonl");
    await writeFile(path, other.join("\n") + "\n");
    expect(await collect(readDrain(path))).toEqual(other.map((l) => decodeDrained(JSON.parse(l))));

    for (const bad of [`{"p":01,"o":2,"pr":0,"s":3}`, `{"p":1,"o":2,"pr":0,"s":3}}`]) {
      expect(decodeDrainedBytes(Buffer.from(bad), 0, bad.length)).toBeUndefined();
      await writeFile(path, `${bad}\n{"p":0,"o":0,"pr":0,"s":0}\n`);
      await expect(collect(readDrain(path))).rejects.toThrow(`${path}:1: malformed line`);
    }
  });

  it("read back in batches, across read chunks, in order", async () => {
    const records: DrainedRecord[] = [];
    for (let i = 0; i < 100_000; i++) {
      records.push({ partition: i % 3, offset: 1e9 + i, producer: i % 2, seq: i });
    }
    const path = join(dir, "drain.jsonl");
    await writeFile(path, records.map((r) => encodeDrained(r) + "\n").join(""));
    const batches = await collect(readDrainBatches(path));
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(records);
  });

  it("reject a line missing a field, naming the line", async () => {
    const path = join(dir, "drain.jsonl");
    await writeFile(path, `{"p":0,"o":0,"pr":1,"s":2}\n{"p":0,"o":1,"pr":1}\n`);
    await expect(collect(readDrain(path))).rejects.toThrow(`${path}:2: malformed line: field 's'`);
  });
});
