import type { FaultWindow, WorkerCrash } from "./types.js";

/** After a fault heals, clients reconnect and groups rebalance: not yet a client's own stall. */
export const LIVENESS_GRACE_MS = 10_000;
/** Longest pause of committed progress, away from any fault, that is not reported. */
export const LIVENESS_STALL_MS = 10_000;

/**
 * What the processor's client did to the pipeline's progress while nothing was breaking it:
 * workers that stopped on errors, and pauses of committed progress, away from every fault (and
 * LIVENESS_GRACE_MS after it). Findings about the client, shown apart from the verdict.
 */
export function livenessFindings(
  okTimes: number[],
  crashes: WorkerCrash[],
  faults: FaultWindow[],
): string[] {
  const busy = faults.map((f) => [f.startMs, (f.endMs ?? Infinity) + LIVENESS_GRACE_MS] as const);
  const quiet = (t: number) => !busy.some(([a, b]) => t >= a && t <= b);
  const findings: string[] = [];
  const stopped = crashes.filter((c) => c.point === "fatal-error" && quiet(c.time));
  if (stopped.length > 0) {
    const first = stopped[0]!;
    const why = first.error ? ` (${first.call ? `${first.call}: ` : ""}${first.error})` : "";
    findings.push(
      `${stopped.length} worker(s) stopped on an error while no fault was active; the first, ${first.worker} at ${seconds(first.time)}${why}`,
    );
  }
  const stall = longestQuietGap(
    [...okTimes].sort((a, b) => a - b),
    busy,
  );
  if (stall && stall[1] - stall[0] >= LIVENESS_STALL_MS) {
    findings.push(
      `no committed progress for ${seconds(stall[1] - stall[0])} (${seconds(stall[0])}–${seconds(stall[1])}) while no fault was active`,
    );
  }
  return findings;
}

/** The longest stretch between two progress times that no fault window covers any part of. */
function longestQuietGap(
  times: number[],
  busy: (readonly [number, number])[],
): [number, number] | undefined {
  let best: [number, number] | undefined;
  for (let i = 1; i < times.length; i++) {
    for (const part of minus([times[i - 1]!, times[i]!], busy)) {
      if (!best || part[1] - part[0] > best[1] - best[0]) best = part;
    }
  }
  return best;
}

/** The parts of an interval outside every busy window. */
function minus(
  interval: [number, number],
  busy: (readonly [number, number])[],
): [number, number][] {
  let parts: [number, number][] = [interval];
  for (const [a, b] of busy) {
    parts = parts.flatMap(([x, y]): [number, number][] => {
      if (b <= x || a >= y) return [[x, y]];
      const out: [number, number][] = [];
      if (a > x) out.push([x, a]);
      if (b < y) out.push([b, y]);
      return out;
    });
  }
  return parts;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
