import { describe, expect, it } from "vitest";
import { HOPS, type HopName } from "../history/events.js";
import { CLAIMS, claimChecks } from "./claims.js";
import { emptyExamples, type HopCounts, type Reconciliation } from "./reconcile.js";
import { judge } from "./verdict.js";

const sorted = (set: Set<string>) => [...set].sort();

type Counts = Partial<Omit<HopCounts, "examples">> & { examples?: Partial<HopCounts["examples"]> };

function hop(name: HopName, counts: Counts = {}): HopCounts {
  const zero = { lost: 0, lostAcked: 0, lostUnacked: 0, duplicated: 0, reordered: 0 };
  return {
    name,
    in: 200,
    out: 200,
    ...zero,
    abortedReads: 0,
    abortedVisible: 0,
    unexpected: 0,
    ...counts,
    examples: { ...emptyExamples(), ...counts.examples },
  };
}

/** A four-hop pipeline run (processor to an output topic) with the given counts per hop. */
function pipeline(counts: Partial<Record<HopName, Counts>>): Reconciliation {
  const names: HopName[] = ["producer-broker", "broker-consumer", "processor-output", "end-to-end"];
  return {
    run: null,
    messages: { attempted: 200, acked: 200, failed: 0, unknown: 0 },
    faults: [],
    hops: names.map((name) => hop(name, counts[name])),
    processor: { processed: 200, aborted: 0, unknown: 0, workers: ["0.0"], crashes: [] },
    complete: true,
    endReason: "completed",
    durationMs: 1000,
    producingMs: 800,
    unconfirmed: { messages: 0, partitions: [] },
    errors: [],
    liveness: [],
  };
}

const dup = (n: number) => ({ duplicated: n, examples: { duplicated: ["0:5", "0:6"] } });
const lostAcked = (n: number) => ({
  lost: n,
  lostAcked: n,
  out: 200 - n,
  examples: { lost: ["0:7"], lostAcked: ["0:7"] },
});
const lostUnacked = (n: number) => ({
  lost: n,
  lostUnacked: n,
  out: 200 - n,
  examples: { lost: ["0:9"], lostUnacked: ["0:9"] },
});

describe("the claim sets the checks", () => {
  it("checks each claim end to end, acked loss at every told-ok hop, aborted reads everywhere", () => {
    const table = Object.fromEntries(
      CLAIMS.map((claim) => [
        claim,
        Object.fromEntries(HOPS.map((h) => [h, sorted(claimChecks(claim, h))])),
      ]),
    );
    expect(table).toEqual({
      "at-most-once": {
        "producer-broker": ["abortedReads", "lostAcked", "unexpected"],
        "broker-storage": ["abortedReads", "lostAcked", "unexpected"],
        "broker-consumer": ["abortedReads", "unexpected"],
        "processor-output": ["abortedReads", "lostAcked", "unexpected"],
        "consumer-sink": ["abortedReads", "lostAcked", "unexpected"],
        "end-to-end": ["abortedReads", "duplicated", "unexpected"],
      },
      "at-least-once": {
        "producer-broker": ["abortedReads", "lostAcked", "unexpected"],
        "broker-storage": ["abortedReads", "lostAcked", "unexpected"],
        "broker-consumer": ["abortedReads", "lost", "unexpected"],
        "processor-output": ["abortedReads", "lostAcked", "unexpected"],
        "consumer-sink": ["abortedReads", "lostAcked", "unexpected"],
        "end-to-end": ["abortedReads", "lostAcked", "unexpected"],
      },
      "exactly-once": {
        "producer-broker": ["abortedReads", "lostAcked", "unexpected"],
        "broker-storage": ["abortedReads", "lostAcked", "unexpected"],
        "broker-consumer": ["abortedReads", "lost", "unexpected"],
        "processor-output": ["abortedReads", "lostAcked", "unexpected"],
        "consumer-sink": ["abortedReads", "lostAcked", "unexpected"],
        "end-to-end": ["abortedReads", "duplicated", "lost", "unexpected"],
      },
    });
  });

  it("fails an exactly-once claim with no expect list when duplicates reach the end", () => {
    const rec = pipeline({ "producer-broker": dup(2), "end-to-end": dup(2) });
    const judgement = judge(rec, {}, { claims: "exactly-once" });
    expect(judgement.verdict).toBe("violation");
    expect(judgement.violations).toEqual([
      { hop: "end-to-end", count: "duplicated", value: 2, examples: ["0:5", "0:6"] },
    ]);
    // The same run judged by its expect list alone (the old rule) passed: the false pass.
    expect(judge(rec, {}).verdict).toBe("pass");
  });

  it("lets an inner hop's duplicates pass when a later stage absorbed them", () => {
    const rec = pipeline({ "producer-broker": dup(2), "broker-consumer": dup(2) });
    const judgement = judge(rec, {}, { claims: "exactly-once" });
    expect(judgement.verdict).toBe("pass");
    expect(judgement.hops.find((h) => h.name === "producer-broker")?.duplicated).toBe(2);
  });

  it("allows unacked loss but not acked loss under at-least-once", () => {
    const unacked = pipeline({ "producer-broker": lostUnacked(3), "end-to-end": lostUnacked(3) });
    expect(judge(unacked, {}, { claims: "at-least-once" }).verdict).toBe("pass");
    const acked = pipeline({ "end-to-end": lostAcked(1) });
    expect(judge(acked, {}, { claims: "at-least-once" }).violations).toMatchObject([
      { hop: "end-to-end", count: "lostAcked", value: 1 },
    ]);
    expect(judge(unacked, {}, { claims: "exactly-once" }).violations).toMatchObject([
      { hop: "end-to-end", count: "lost", value: 3 },
    ]);
  });

  it("holds an at-least-once consumer to skip nothing the broker stored", () => {
    const skipped = pipeline({ "broker-consumer": lostUnacked(4), "end-to-end": lostUnacked(4) });
    expect(judge(skipped, {}, { claims: "at-least-once" }).violations).toMatchObject([
      { hop: "broker-consumer", count: "lost", value: 4 },
    ]);
    expect(judge(skipped, {}, { claims: "at-most-once" }).verdict).toBe("pass");
  });

  it("forbids duplicates end to end under at-most-once, allows loss", () => {
    const lossy = pipeline({ "end-to-end": lostUnacked(5), "broker-consumer": lostUnacked(5) });
    expect(judge(lossy, {}, { claims: "at-most-once" }).verdict).toBe("pass");
    const twice = pipeline({ "end-to-end": dup(1) });
    expect(judge(twice, {}, { claims: "at-most-once" }).verdict).toBe("violation");
    expect(judge(twice, {}, { claims: "at-least-once" }).verdict).toBe("pass");
  });

  it("adds what expect lists on top of the claim", () => {
    const rec = pipeline({ "producer-broker": dup(2), "end-to-end": dup(2) });
    const judgement = judge(
      rec,
      { "producer-broker": ["duplicated"] },
      { claims: "at-least-once" },
    );
    expect(judgement.violations.map((v) => v.hop)).toEqual(["producer-broker"]);
  });

  it("drops a relaxed check, reports the relaxation, and only that one", () => {
    const rec = pipeline({ "end-to-end": { ...dup(2), ...lostUnacked(1) } });
    const relax = [
      { hop: "end-to-end" as const, count: "duplicated" as const, reason: "dedup later" },
    ];
    const judgement = judge(rec, {}, { claims: "exactly-once", relax });
    expect(judgement.relaxed).toEqual(relax);
    expect(judgement.violations).toMatchObject([{ hop: "end-to-end", count: "lost" }]);
    const hop = judgement.hops.find((h) => h.name === "end-to-end");
    expect(hop?.allowed.duplicates).toBe(true);
  });

  it("does not report a relaxation for a hop the run does not have", () => {
    const rec = pipeline({});
    const relax = [{ hop: "consumer-sink" as const, count: "lostAcked" as const, reason: "x" }];
    expect(judge(rec, {}, { claims: "at-least-once", relax }).relaxed).toEqual([]);
  });
});
