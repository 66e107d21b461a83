import { describe, expect, it } from "vitest";
import { livenessFindings, LIVENESS_GRACE_MS } from "./liveness.js";

const fault = (startMs: number, endMs: number) => ({
  type: "drop-acks",
  target: "leader",
  startMs,
  endMs,
});

describe("livenessFindings", () => {
  it("reports nothing for steady progress and crashes inside faults", () => {
    const oks = [0, 1000, 2000, 3000];
    const crash = { worker: "0.0", point: "fatal-error", time: 1500 };
    expect(livenessFindings(oks, [crash], [fault(1000, 2000)])).toEqual([]);
  });

  it("reports a worker stopped on an error away from every fault, with its error", () => {
    const crash = { worker: "1.0", point: "fatal-error", time: 800, error: "E: x", call: "send" };
    expect(livenessFindings([0, 1000], [crash], [fault(2700, 5700)])).toEqual([
      "1 worker(s) stopped on an error while no fault was active; the first, 1.0 at 0.8s (send: E: x)",
    ]);
  });

  it("does not count a crash at a fixed point, nor one within the grace after a fault", () => {
    const crashes = [
      { worker: "0.0", point: "after-process-before-commit", time: 500 },
      { worker: "0.1", point: "fatal-error", time: 2000 + LIVENESS_GRACE_MS - 1 },
    ];
    expect(livenessFindings([0, 100], crashes, [fault(1000, 2000)])).toEqual([]);
  });

  it("reports the longest pause of progress outside faults and their grace", () => {
    // progress at 0 and 60 s; a fault 5–10 s covers 5–20 s with its grace: quiet 20–60 s
    expect(livenessFindings([0, 60_000], [], [fault(5000, 10_000)])).toEqual([
      "no committed progress for 40.0s (20.0s–60.0s) while no fault was active",
    ]);
    expect(livenessFindings([0, 9000], [], [])).toEqual([]);
  });
});
