import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SinkMode } from "../history/events.js";
import { PORT_OFFSET } from "../stack/paths.js";
import { redacted, sinkConfig, sinkHost, tableBase, type Sink, type SinkRow } from "./index.js";
import { SqliteSink } from "./sqlite.js";

/** The sink modes on a real SQLite file: what each write leaves in the table. */

const dirs: string[] = [];
const sinks: Sink[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function sqlite(mode: SinkMode): Promise<Sink> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-sqlite-"));
  dirs.push(dir);
  const config = sinkConfig({ type: "sqlite", mode }, "kc-test", dir);
  if (!config) throw new Error("no sink");
  const sink = new SqliteSink(config);
  sinks.push(sink);
  await sink.create();
  return sink;
}

/** Rows of producer 0, seq = offset, on partition 0. */
function chunk(from: number, to: number, offsetShift = 0): SinkRow[] {
  const rows: SinkRow[] = [];
  for (let seq = from; seq <= to; seq++) {
    const offset = seq + offsetShift;
    rows.push({ producer: 0, seq, partition: 0, offset, worker: "0.0", payload: null });
  }
  return rows;
}

async function seqs(sink: Sink): Promise<number[]> {
  const out: number[] = [];
  for await (const batch of sink.rows()) out.push(...batch.map((r) => r.seq));
  return out;
}

const none = () => {};

describe("SQLite sink", () => {
  it("plain: a chunk written twice is there twice", async () => {
    const sink = await sqlite("plain");
    await sink.write(0, chunk(0, 2), none);
    await sink.write(0, chunk(1, 2), none);
    expect(await seqs(sink)).toEqual([0, 1, 2, 1, 2]);
  });

  it("idempotent: the second write of an identity does nothing", async () => {
    const sink = await sqlite("idempotent");
    await sink.write(0, chunk(0, 2), none);
    await sink.write(0, chunk(1, 3), none);
    expect(await seqs(sink)).toEqual([0, 1, 2, 3]);
  });

  it("upsert-versioned: one row per identity, moved only by a newer input offset", async () => {
    const sink = await sqlite("upsert-versioned");
    await sink.write(0, chunk(0, 1, 10), none); // versions 10, 11
    await sink.write(0, chunk(0, 1, 5), none); // versions 5, 6: older, ignored
    await sink.write(0, chunk(1, 1, 20), none); // version 21: newer, updates seq 1
    expect(await seqs(sink)).toEqual([0, 1]);
    const versions = (sink as unknown as { db: import("better-sqlite3").Database }).db
      .prepare("SELECT seq, version FROM sink ORDER BY seq")
      .all();
    expect(versions).toEqual([
      { seq: 0, version: 10 },
      { seq: 1, version: 21 },
    ]);
  });

  it("atomic: stores the next offset with the rows and skips what it already holds", async () => {
    const sink = await sqlite("atomic");
    expect(await sink.write(0, chunk(0, 4), none)).toHaveLength(5);
    expect(await sink.storedOffsets()).toEqual(new Map([[0, 5]]));
    const again = await sink.write(0, chunk(3, 7), none);
    expect(again.map((r) => r.seq)).toEqual([5, 6, 7]);
    expect(await sink.storedOffsets()).toEqual(new Map([[0, 8]]));
    expect(await seqs(sink)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("a failure inside the transaction leaves neither rows nor offsets", async () => {
    const sink = await sqlite("atomic");
    await expect(
      sink.write(0, chunk(0, 4), () => {
        throw new Error("crash");
      }),
    ).rejects.toThrow("crash");
    expect(await seqs(sink)).toEqual([]);
    expect(await sink.storedOffsets()).toEqual(new Map());
  });

  it("drains rows by input partition, then row id", async () => {
    const sink = await sqlite("plain");
    await sink.write(1, [{ ...chunk(7, 7)[0]!, partition: 1 }], none);
    await sink.write(0, chunk(0, 1), none);
    const rows: unknown[] = [];
    for await (const batch of sink.rows()) rows.push(...batch);
    expect(rows).toEqual([
      { partition: 0, offset: 2, producer: 0, seq: 0 },
      { partition: 0, offset: 3, producer: 0, seq: 1 },
      { partition: 1, offset: 1, producer: 0, seq: 7 },
    ]);
  });

  it("refuses to create the tables twice", async () => {
    const sink = await sqlite("plain");
    await expect(sink.create()).rejects.toThrow(/already exists/);
  });
});

describe("sink config", () => {
  it("names postgres tables after the prefix, as identifiers", () => {
    expect(tableBase("kc-20261123-134800-cfhc")).toBe("kc_20261123_134800_cfhc");
    expect(tableBase("9Lives")).toBe("kc_9lives");
    expect(tableBase("x".repeat(80))).toHaveLength(55);
    const config = sinkConfig({ type: "postgres", mode: "atomic" }, "kc-r1", "/tmp", {});
    expect(config?.table).toBe("kc_r1_sink");
    expect(config?.offsetsTable).toBe("kc_r1_offsets");
  });

  it("takes the URL from the profile, then $KAFKA_CHAOS_PG_URL, then the local stack", () => {
    const env = { KAFKA_CHAOS_PG_URL: "postgres://env@h:1/d" };
    const at = (url?: string, e = {}) =>
      sinkConfig({ type: "postgres", mode: "plain", ...(url ? { url } : {}) }, "p", "/t", e)
        ?.location;
    expect(at("postgres://profile@h:2/d", env)).toBe("postgres://profile@h:2/d");
    expect(at(undefined, env)).toBe("postgres://env@h:1/d");
    // The local stack's port moves with KAFKA_CHAOS_PORT_OFFSET (a second stack beside the first).
    expect(at()).toBe(`postgres://kafka_chaos@127.0.0.1:${5433 + PORT_OFFSET}/postgres`);
  });

  it("never writes a password to disk, and names the host for errors", () => {
    const config = sinkConfig(
      { type: "postgres", mode: "plain", url: "postgres://me:secret@db.example:6543/app" },
      "p",
      "/t",
    )!;
    expect(redacted(config).location).toBe("postgres://me:***@db.example:6543/app");
    expect(sinkHost(config)).toBe("db.example:6543");
  });
});
