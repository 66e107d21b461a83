import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DrainedRecord, HistoryEvent, ProcessedEvent } from "../history/events.js";
import { encodeDrained } from "../history/reader.js";
import { judgeRunDir } from "./judge.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kafka-chaos-judge-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (items: unknown[]) => items.map((i) => JSON.stringify(i) + "\n").join("");
const drain = (records: DrainedRecord[]) => records.map((r) => encodeDrained(r) + "\n").join("");
const at = (offset: number, seq: number): DrainedRecord => ({
  partition: 0,
  offset,
  producer: 0,
  seq,
});

function chunk(worker: string, seqs: number[], base: number): ProcessedEvent {
  return {
    type: "processed",
    worker,
    partition: 0,
    fromOffset: seqs[0]!,
    toOffset: seqs[seqs.length - 1]!,
    items: seqs.map((s) => [0, s]),
    outcome: "ok",
    output: { "0": [base, seqs.length] },
    time: 50,
  };
}

async function writeRun(output?: string): Promise<void> {
  const topics = output ? { input: "in", output } : { input: "in" };
  const profile = { name: "at-least-once", claims: "at-least-once", expect: {} };
  await writeFile(
    join(dir, "run.json"),
    JSON.stringify({ runId: "r1", profile, seed: 1, startedAt: "t", topics }),
  );
  const history: HistoryEvent[] = [
    { type: "run", runId: "r1", profile: "p", seed: 1, startedAt: "t", topics, acks: -1 },
    { type: "invoke", producer: 0, from: 0, to: 3, time: 1 },
    { type: "ok", producer: 0, from: 0, to: 3, time: 2 },
    { type: "worker", phase: "start", worker: "0.0", time: 3 },
    {
      type: "worker",
      phase: "crash",
      worker: "0.0",
      point: "after-process-before-commit",
      time: 60,
    },
    { type: "worker", phase: "start", worker: "0.1", time: 61 },
    { type: "end", time: 100, reason: "completed" },
  ];
  await writeFile(join(dir, "history.jsonl"), lines(history));
  await writeFile(join(dir, "drain.jsonl"), drain([at(0, 0), at(1, 1), at(2, 2), at(3, 3)]));
}

describe("judgeRunDir", () => {
  it("reads every processor history and both output drains", async () => {
    await writeRun("out");
    // worker 0.0 processed 0..3, died before committing; 0.1 processed 2..3 again
    await writeFile(join(dir, "processor-0-0.jsonl"), lines([chunk("0.0", [0, 1, 2, 3], 0)]));
    await writeFile(join(dir, "processor-0-1.jsonl"), lines([chunk("0.1", [2, 3], 4)]));
    const output = [at(0, 0), at(1, 1), at(2, 2), at(3, 3), at(4, 2), at(5, 3)];
    await writeFile(join(dir, "drain-output.jsonl"), drain(output));
    await writeFile(join(dir, "drain-output-uncommitted.jsonl"), drain(output));

    const report = await judgeRunDir(dir);
    expect(report.hops.map((h) => [h.name, h.in, h.out, h.lost, h.duplicated])).toEqual([
      ["producer-broker", 4, 4, 0, 0],
      ["broker-consumer", 4, 4, 0, 2],
      ["processor-output", 4, 4, 0, 0],
      ["end-to-end", 4, 4, 0, 2],
    ]);
    expect(report.processor).toEqual({
      processed: 6,
      aborted: 0,
      unknown: 0,
      workers: ["0.0", "0.1"],
      crashes: [{ worker: "0.0", point: "after-process-before-commit", time: 60 }],
    });
    expect(report.verdict).toBe("pass");
    expect(report.warnings).toEqual([]);
    expect(JSON.parse(await readFile(join(dir, "report.json"), "utf8"))).toEqual(report);
  });

  it("refuses to judge a run whose output topic was not drained", async () => {
    await writeRun("out");
    await expect(judgeRunDir(dir)).rejects.toThrow(/drain-output.jsonl: missing/);
  });

  it("judges a producer-only run on its input drain alone", async () => {
    await writeRun();
    const report = await judgeRunDir(dir);
    expect(report.hops.map((h) => h.name)).toEqual(["producer-broker", "end-to-end"]);
    expect(report.processor).toBeNull();
    expect(report.verdict).toBe("pass");
  });
});
