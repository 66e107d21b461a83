import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HistoryEvent, ProcessedEvent } from "../../history/events.js";
import type { HopResult } from "../../reconcile/verdict.js";
import type { Report } from "../report.js";
import { renderComparePage } from "./compare-page.js";
import { renderRunPage } from "./run-page.js";
import { MAX_BUCKETS, bucketWidth, buildTimeline, faultsDuring } from "./timeline.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kafka-chaos-html-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (items: unknown[]) => items.map((i) => JSON.stringify(i) + "\n").join("");

function hop(name: HopResult["name"], lost: string[] = []): HopResult {
  const none: string[] = [];
  return {
    name,
    in: 10,
    out: 10 - lost.length,
    lost: lost.length,
    lostAcked: lost.length,
    lostUnacked: 0,
    duplicated: 0,
    reordered: 0,
    abortedReads: 0,
    abortedVisible: 0,
    unexpected: 0,
    examples: {
      lost,
      lostAcked: lost,
      lostUnacked: none,
      duplicated: none,
      reordered: none,
      abortedReads: none,
      unexpected: none,
    },
    allowed: { loss: "unacked", duplicates: true, reorder: true },
    ok: lost.length === 0,
  } as HopResult;
}

function report(over: Partial<Report> = {}): Report {
  return {
    runId: "r1",
    profile: "at-least-once",
    claims: "at-least-once",
    seed: 7,
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1000,
    messages: { attempted: 10, acked: 6, failed: 2, unknown: 2 },
    faults: [{ type: "drop-acks#1", target: "leader (broker-1)", startMs: 250, endMs: 600 }],
    hops: [hop("producer-broker"), hop("end-to-end", ["0:5"])],
    processor: { processed: 6, aborted: 0, unknown: 0, workers: ["0.0"], crashes: [] },
    violations: [{ hop: "end-to-end", count: "lostAcked", value: 1, examples: ["0:5"] }],
    verdict: "violation",
    relaxed: [],
    unconfirmed: { messages: 0, partitions: [] },
    errors: [{ outcome: "fail", error: "<boom> & co", sends: 1, messages: 2 }],
    complete: true,
    endReason: "completed",
    warnings: ["a <warning>"],
    ...over,
  } as Report;
}

const history: HistoryEvent[] = [
  { type: "invoke", producer: 0, from: 0, to: 3, time: 10 },
  { type: "ok", producer: 0, from: 0, to: 3, time: 30 },
  { type: "invoke", producer: 0, from: 4, to: 5, time: 300 },
  { type: "ok", producer: 0, from: 4, to: 5, time: 700 },
  { type: "invoke", producer: 0, from: 6, to: 7, time: 320 },
  { type: "fail", producer: 0, from: 6, to: 7, time: 420, error: "boom" },
  // never completed: unknown at its invoke time
  { type: "invoke", producer: 0, from: 8, to: 9, time: 950 },
  { type: "end", time: 1000, reason: "completed" },
];

const processed = (time: number, n: number): ProcessedEvent => ({
  type: "processed",
  worker: "0.0",
  partition: 0,
  fromOffset: 0,
  toOffset: n - 1,
  items: Array.from({ length: n }, (_, i): [number, number] => [0, i]),
  outcome: "ok",
  time,
});

describe("timeline", () => {
  it("keeps the number of buckets bounded whatever the run's length", () => {
    for (const ms of [1, 999, 8_000, 60_000, 3_600_000, 86_400_000]) {
      expect(Math.ceil((ms + 1) / bucketWidth(ms))).toBeLessThanOrEqual(MAX_BUCKETS + 1);
    }
    expect(bucketWidth(8_000)).toBe(100);
  });

  it("buckets send outcomes, latency percentiles, processing and backlog", async () => {
    await writeFile(join(dir, "history.jsonl"), lines(history));
    await writeFile(join(dir, "processor-0-0.jsonl"), lines([processed(50, 3), processed(800, 3)]));
    const t = await buildTimeline(report(), join(dir, "history.jsonl"), [
      join(dir, "processor-0-0.jsonl"),
    ]);
    expect(t.bucketMs).toBe(100);
    expect(t.startMs).toHaveLength(11);
    const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
    expect([sum(t.ok), sum(t.fail), sum(t.unknown)]).toEqual([6, 2, 2]);
    expect(t.ok[0]).toBe(4);
    expect(t.ok[7]).toBe(2);
    expect(t.fail[4]).toBe(2);
    expect(t.unknown[9]).toBe(2);
    expect(t.p50Ms[0]).toBe(20);
    expect(t.p99Ms[7]).toBe(400);
    expect(t.p50Ms[1]).toBeNull();
    expect(t.processed?.[0]).toBe(3);
    expect(t.processed?.[8]).toBe(3);
    expect(t.backlog?.[0]).toBe(1); // 4 acked, 3 processed
    expect(t.backlog?.[7]).toBe(3);
    expect(t.backlog?.[10]).toBe(0);
    expect(t.sentAt["0:5"]).toBe(300);
    expect(t.doneAt["0:5"]).toBe(700);
  });

  it("names the faults active during a send", () => {
    expect(faultsDuring(report(), 300, 700)).toEqual(["drop-acks#1"]);
    expect(faultsDuring(report(), 10, 30)).toEqual([]);
  });
});

describe("run page", () => {
  it("is self-contained, escaped, and shows the verdict, counts and examples", async () => {
    await writeFile(join(dir, "history.jsonl"), lines(history));
    const r = report();
    const html = renderRunPage(r, await buildTimeline(r, join(dir, "history.jsonl"), []));
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toContain('data-testid="verdict" data-verdict="violation"');
    expect(html).toContain('<dd data-testid="exit-code">1</dd>');
    expect(html).toContain('<b data-testid="attempted">10</b>');
    expect(html).toContain('data-id="0:5"');
    expect(html).toContain("&lt;boom&gt; &amp; co");
    expect(html).toContain("a &lt;warning&gt;");
    expect(html).not.toContain("<boom>");
    expect(html).toContain("uPlot");
  });
});

describe("compare page", () => {
  it("links each run's report and charts every profile", () => {
    const stats = { throughput: 1000, p50Ms: 5, p99Ms: 50, maxMs: 90, windowMs: 1000 };
    const html = renderComparePage(
      [
        { report: report(), stats, link: "at-least-once/report.html" },
        {
          report: report({ profile: "exactly-once", verdict: "pass" }),
          stats,
          link: "x/report.html",
        },
      ],
      7,
    );
    expect(html).toContain('<a href="at-least-once/report.html">');
    expect(html).toContain('"profile":"exactly-once"');
    expect(html).toContain('id="chart-anomalies"');
  });
});
