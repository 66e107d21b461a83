import hdr from "hdr-histogram-js";
import { readHistory } from "../history/reader.js";

export interface ProduceStats {
  /** messages attempted per second over the producing window */
  throughput: number;
  /** per-batch send latency (invoke → outcome), ms */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  windowMs: number;
}

/** Produce throughput and per-batch send latency, from a run's history. */
export async function produceStats(historyFile: string): Promise<ProduceStats> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000 });
  const invoked = new Map<string, number>();
  let first = Infinity;
  let last = 0;
  let messages = 0;
  for await (const e of readHistory(historyFile)) {
    if (e.type === "invoke") {
      invoked.set(`${e.producer}:${e.from}`, e.time);
      first = Math.min(first, e.time);
      messages += e.to - e.from + 1;
    } else if (e.type === "ok" || e.type === "fail" || e.type === "unknown") {
      const start = invoked.get(`${e.producer}:${e.from}`);
      if (start === undefined) continue;
      histogram.recordValue(Math.max(1, e.time - start));
      last = Math.max(last, e.time);
    }
  }
  const windowMs = Math.max(1, last - (Number.isFinite(first) ? first : last));
  const stats = {
    throughput: Math.round((messages * 1000) / windowMs),
    p50Ms: histogram.getValueAtPercentile(50),
    p99Ms: histogram.getValueAtPercentile(99),
    maxMs: histogram.maxValue,
    windowMs,
  };
  histogram.destroy();
  return stats;
}
