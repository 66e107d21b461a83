import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../history/events.js";
import { reconcile } from "../reconcile/reconcile.js";
import { judge } from "../reconcile/verdict.js";
import type { RunInfo } from "../run/run-dir.js";
import { buildReport, type Report } from "./report.js";
import { renderTable, verdictLine } from "./table.js";

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

const info = {
  runId: "r1",
  profile: { name: "exactly-once", claims: "exactly-once", expect: {} },
  seed: 1,
  startedAt: "2024-01-01T00:00:00.000Z",
} as unknown as RunInfo;

function history(output?: string): HistoryEvent[] {
  return [
    {
      type: "run",
      runId: "r1",
      profile: "exactly-once",
      seed: 1,
      startedAt: info.startedAt,
      topics: output ? { input: "in", output } : { input: "in" },
      acks: -1,
    },
    { type: "invoke", producer: 0, from: 0, to: 1, time: 0 },
    { type: "ok", producer: 0, from: 0, to: 1, time: 10 },
    { type: "worker", phase: "start", worker: "0.0", time: 1 },
    {
      type: "processed",
      worker: "0.0",
      partition: 0,
      fromOffset: 0,
      toOffset: 1,
      items: [
        [0, 0],
        [0, 1],
      ],
      outcome: "aborted",
      output: { "0": [0, 2] },
      time: 20,
    },
    { type: "worker", phase: "crash", worker: "0.0", point: "mid-transaction", time: 2500 },
    { type: "worker", phase: "start", worker: "0.1", time: 2600 },
    {
      type: "processed",
      worker: "0.1",
      partition: 0,
      fromOffset: 0,
      toOffset: 1,
      items: [
        [0, 0],
        [0, 1],
      ],
      outcome: "ok",
      output: { "0": [3, 2] },
      time: 2700,
    },
  ];
}

const input = [
  { partition: 0, offset: 0, producer: 0, seq: 0 },
  { partition: 0, offset: 1, producer: 0, seq: 1 },
];
const committed = [
  { partition: 0, offset: 3, producer: 0, seq: 0 },
  { partition: 0, offset: 4, producer: 0, seq: 1 },
];

describe("renderTable", () => {
  it("shows the processor hops, aborted reads, visible aborts and crashes", () => {
    const rec = reconcile(history("out"), input, {
      committed,
      uncommitted: [...input, ...committed],
    });
    const text = renderTable(buildReport(info, rec, judge(rec, {})));
    for (const title of ["producer → broker", "broker → consumer", "processor → output"]) {
      expect(text).toContain(title);
    }
    expect(text).toContain("aborted reads");
    expect(text).toContain("read_uncommitted drain saw 2 aborted record(s)");
    expect(text).toContain(
      "processor: 2 worker process(es) started, 2 processed, 2 aborted, 0 unknown",
    );
    expect(text).toContain("crashes: 1 (0.0 mid-transaction at 2.5s)");
    expect(text).toContain("verdict: PASS");
  });

  it("shows neither for a producer-only run", () => {
    const rec = reconcile(history(), input);
    const report = buildReport(info, rec, judge(rec, {}));
    expect(report.processor).toBeNull();
    const text = renderTable(report);
    expect(text).not.toContain("processor");
    expect(text).not.toContain("read_uncommitted");
  });
});

describe("verdict line", () => {
  const base = { verdict: "pass", claims: "exactly-once", relaxed: [] } as unknown as Report;

  it("names the claim on a pass, and never shows a relaxed pass as plain", () => {
    expect(stripAnsi(verdictLine(base))).toBe(
      "verdict: PASS — every check of the claim exactly-once held",
    );
    const relaxed = {
      ...base,
      relaxed: [{ hop: "end-to-end", count: "duplicated", reason: "r" }],
    } as unknown as Report;
    expect(stripAnsi(verdictLine(relaxed))).toMatch(
      /^verdict: PASS WITH RELAXED CLAIM — exactly-once held except .*duplicated at end-to-end/,
    );
    expect(stripAnsi(verdictLine({ ...base, verdict: "violation" }))).toBe("verdict: VIOLATION");
  });
});
