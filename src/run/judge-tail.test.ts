import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import chalk from "chalk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DrainedRecord, HistoryEvent } from "../history/events.js";
import { encodeDrained } from "../history/reader.js";
import { githubSummary } from "../report/github.js";
import { renderJunit } from "../report/junit.js";
import { renderTable } from "../report/table.js";
import { judgeRunDir } from "./judge.js";
import { runFiles } from "./run-dir.js";

/** A run directory with tail.jsonl: broker-storage judged, lost-after-visible shown. */

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kafka-chaos-tail-"));
  chalk.level = 0;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (items: unknown[]) => items.map((i) => JSON.stringify(i) + "\n").join("");
const at = (offset: number, seq: number): DrainedRecord => ({
  partition: 0,
  offset,
  producer: 0,
  seq,
});

/** Producer 0 sent 0..5, all acked; the drain holds 0..2, then 5 at offset 3. */
async function writeRun(acks: number): Promise<void> {
  const topics = { input: "in" };
  const profile = { name: "p", claims: "at-least-once", expect: {} };
  await writeFile(
    join(dir, "run.json"),
    JSON.stringify({ runId: "r1", profile, seed: 1, startedAt: "t", topics }),
  );
  const history: HistoryEvent[] = [
    { type: "run", runId: "r1", profile: "p", seed: 1, startedAt: "t", topics, acks },
    { type: "invoke", producer: 0, from: 0, to: 5, time: 1 },
    { type: "ok", producer: 0, from: 0, to: 5, time: 2 },
    { type: "end", time: 5000, reason: "completed" },
  ];
  await writeFile(join(dir, "history.jsonl"), lines(history));
  const drain = [at(0, 0), at(1, 1), at(2, 2), at(3, 5)];
  await writeFile(join(dir, "drain.jsonl"), drain.map((r) => encodeDrained(r) + "\n").join(""));
}

const TAIL = [
  {
    type: "seen",
    time: 3200,
    partition: 0,
    records: [
      [0, 0, 0],
      [1, 0, 1],
      [2, 0, 2],
      [3, 0, 3],
      [4, 0, 4],
    ],
  },
];

describe("judgeRunDir with a tail", () => {
  it("judges broker-storage and reports what was lost after being visible", async () => {
    await writeRun(-1);
    // the last line was torn by a crash: skipped, like the history's
    await writeFile(runFiles(dir).tail, lines(TAIL) + '{"type":"seen","time":40');
    const report = await judgeRunDir(dir);

    expect(report.hops.map((h) => [h.name, h.in, h.out, h.lost, h.lostAcked])).toEqual([
      ["producer-broker", 6, 6, 0, 0],
      ["broker-storage", 6, 4, 2, 2],
      ["end-to-end", 6, 4, 2, 2],
    ]);
    const kept = report.hops[1]!;
    expect(kept.lostAfterVisible).toBe(2);
    expect(kept.lostAfterVisibleExamples).toEqual([
      { id: "0:3", partition: 0, offset: 3, time: 3200 },
      { id: "0:4", partition: 0, offset: 4, time: 3200 },
    ]);
    expect(report.verdict).toBe("violation");
    expect(report.violations.map((v) => [v.hop, v.count])).toEqual([
      ["broker-storage", "lostAcked"],
      ["end-to-end", "lostAcked"],
    ]);
    const json = JSON.parse(await readFile(runFiles(dir).report, "utf8"));
    expect(json.hops[1].lostAfterVisible).toBe(2);
    expect(json.hops[0]).not.toHaveProperty("lostAfterVisible");

    const note =
      "broker-storage: 2 acked message(s) lost after being visible " +
      "(e.g. 0:3 at partition 0 offset 3, seen at 3.2s; 0:4 at partition 0 offset 4, seen at 3.2s)";
    const table = renderTable(report);
    expect(table).toContain("broker storage");
    expect(table).toContain(note);
    expect(githubSummary(report)).toContain(`- ${note}`);
    expect(renderJunit([report])).toContain('name="p: broker-storage"');
  });

  it("has no broker-storage hop with acks=0, nor when the run has no tail", async () => {
    await writeRun(0);
    await writeFile(runFiles(dir).tail, lines(TAIL));
    const zero = await judgeRunDir(dir);
    expect(zero.hops.map((h) => h.name)).toEqual(["producer-broker", "end-to-end"]);
    expect(renderTable(zero)).not.toContain("lost after being visible");

    await rm(runFiles(dir).tail);
    await writeRun(-1);
    const old = await judgeRunDir(dir);
    expect(old.hops.map((h) => [h.name, h.lostAcked])).toEqual([
      ["producer-broker", 2],
      ["end-to-end", 2],
    ]);
  });
});
