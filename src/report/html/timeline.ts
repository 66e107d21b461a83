import { readHistory } from "../../history/reader.js";
import type { Report } from "../report.js";

/**
 * What the HTML report plots over the run's wall time, in fixed time buckets: its size depends
 * on the number of buckets (at most MAX_BUCKETS), never on the number of messages.
 */
export interface Timeline {
  bucketMs: number;
  /** start of each bucket, ms since the run started */
  startMs: number[];
  /** messages per bucket by send outcome, at the time the outcome came (an invoke that never
   * completed counts as unknown at its invoke time) */
  ok: number[];
  fail: number[];
  unknown: number[];
  /** send latency (invoke → outcome, per batch) of the batches completed in the bucket, ms */
  p50Ms: (number | null)[];
  p99Ms: (number | null)[];
  /** input records processed (chunks with outcome ok) per bucket; null without a processor */
  processed: number[] | null;
  /** acked messages not yet processed at the end of each bucket (approximate consumer lag) */
  backlog: number[] | null;
  /** when each example message id of the report was sent (its batch's invoke), ms */
  sentAt: Record<string, number>;
  /** when the send of each example id got its outcome (absent: never), ms */
  doneAt: Record<string, number>;
}

export const MAX_BUCKETS = 400;
const NICE_MS = [
  100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000,
];

/** The smallest round bucket width that keeps a run of this length within MAX_BUCKETS. */
export function bucketWidth(durationMs: number): number {
  const wanted = durationMs / MAX_BUCKETS;
  return NICE_MS.find((w) => w >= wanted) ?? Math.ceil(wanted / 3_600_000) * 3_600_000;
}

/** Every message id the report names as an example, by producer, seqs sorted. */
function exampleSeqs(report: Report): Map<number, number[]> {
  const ids = new Set<string>();
  for (const hop of report.hops) {
    for (const list of Object.values(hop.examples)) for (const id of list) ids.add(id);
  }
  for (const v of report.violations) for (const id of v.examples) ids.add(id);
  const byProducer = new Map<number, number[]>();
  for (const id of ids) {
    const [producer, seq] = id.split(":").map(Number);
    if (!Number.isInteger(producer) || !Number.isInteger(seq)) continue;
    const list = byProducer.get(producer!) ?? [];
    list.push(seq!);
    byProducer.set(producer!, list);
  }
  for (const list of byProducer.values()) list.sort((a, b) => a - b);
  return byProducer;
}

/** Index of the first value ≥ x in a sorted array. */
function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/**
 * Streams the run's history and its processor histories once each into time buckets.
 * `durationMs` (the report's) fixes the bucket width up front; later events land in the
 * last bucket.
 */
export async function buildTimeline(
  report: Report,
  historyFile: string,
  processorFiles: string[],
): Promise<Timeline> {
  const bucketMs = bucketWidth(Math.max(1, report.durationMs));
  const n = Math.max(1, Math.ceil((report.durationMs + 1) / bucketMs));
  const at = (time: number) => Math.min(n - 1, Math.max(0, Math.floor(time / bucketMs)));
  const zeros = () => new Array<number>(n).fill(0);
  const ok = zeros();
  const fail = zeros();
  const unknown = zeros();
  const acked = zeros();
  const latencies: number[][] = Array.from({ length: n }, () => []);
  const examples = exampleSeqs(report);
  const sentAt: Record<string, number> = {};
  // A batch is identified by its producer and first sequence number.
  const open = new Map<string, { time: number; count: number; ids?: string[] }>();
  const doneAt: Record<string, number> = {};
  for await (const e of readHistory(historyFile)) {
    if (e.type === "invoke") {
      const batch: { time: number; count: number; ids?: string[] } = {
        time: e.time,
        count: e.to - e.from + 1,
      };
      open.set(`${e.producer}:${e.from}`, batch);
      const seqs = examples.get(e.producer);
      if (seqs) {
        for (let i = lowerBound(seqs, e.from); i < seqs.length && seqs[i]! <= e.to; i++) {
          const id = `${e.producer}:${seqs[i]}`;
          if (sentAt[id] !== undefined) continue;
          sentAt[id] = e.time;
          (batch.ids ??= []).push(id);
        }
      }
    } else if (e.type === "ok" || e.type === "fail" || e.type === "unknown") {
      const key = `${e.producer}:${e.from}`;
      const invoked = open.get(key);
      open.delete(key);
      const b = at(e.time);
      const count = e.to - e.from + 1;
      if (e.type === "ok") {
        // Messages the client reported sent without a broker acknowledgement are unknown.
        const unconfirmed = (e.unconfirmed?.seqs ?? []).reduce((s, [a, z]) => s + z - a + 1, 0);
        const confirmed = report.messages.acked === 0 ? 0 : count - unconfirmed;
        ok[b]! += confirmed;
        acked[b]! += confirmed;
        unknown[b]! += count - confirmed;
      } else if (e.type === "fail") fail[b]! += count;
      else unknown[b]! += count;
      if (invoked) latencies[b]!.push(Math.max(1, e.time - invoked.time));
      for (const id of invoked?.ids ?? []) doneAt[id] = e.time;
    }
  }
  for (const { time, count } of open.values()) unknown[at(time)]! += count;
  const p50Ms: (number | null)[] = [];
  const p99Ms: (number | null)[] = [];
  for (const list of latencies) {
    list.sort((a, b) => a - b);
    p50Ms.push(percentile(list, 0.5));
    p99Ms.push(percentile(list, 0.99));
  }
  let processed: number[] | null = null;
  let backlog: number[] | null = null;
  if (report.processor !== null) {
    processed = zeros();
    for (const file of processorFiles) {
      for await (const e of readHistory(file)) {
        if (e.type === "processed" && e.outcome === "ok") processed[at(e.time)]! += e.items.length;
      }
    }
    backlog = [];
    let waiting = 0;
    for (let i = 0; i < n; i++) {
      waiting = Math.max(0, waiting + acked[i]! - processed[i]!);
      backlog.push(waiting);
    }
  }
  return {
    bucketMs,
    startMs: Array.from({ length: n }, (_, i) => i * bucketMs),
    ok,
    fail,
    unknown,
    p50Ms,
    p99Ms,
    processed,
    backlog,
    sentAt,
    doneAt,
  };
}

/**
 * The faults active at some moment of [from, to] (windows include both ends; an unstopped
 * one runs on to the end), and the worker crashes in it.
 */
export function faultsDuring(report: Report, from: number, to = from): string[] {
  const faults = report.faults
    .filter((f) => f.startMs <= to && (f.endMs === null || from <= f.endMs))
    .map((f) => f.type);
  const crashes = (report.processor?.crashes ?? [])
    .filter((c) => from <= c.time && c.time <= to)
    .map((c) => `crash of worker ${c.worker}`);
  return [...faults, ...crashes];
}
