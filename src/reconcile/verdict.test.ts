import { describe, expect, it } from "vitest";
import type { HopName } from "../history/events.js";
import type { HopCounts, Reconciliation } from "./reconcile.js";
import { allowedBy, judge, mustBeZero } from "./verdict.js";

function hopCounts(name: HopName, overrides: Partial<HopCounts> = {}): HopCounts {
  return {
    name,
    in: 100,
    out: 100,
    lost: 0,
    lostAcked: 0,
    lostUnacked: 0,
    duplicated: 0,
    reordered: 0,
    abortedReads: 0,
    abortedVisible: 0,
    unexpected: 0,
    examples: {
      lost: [],
      lostAcked: [],
      lostUnacked: [],
      duplicated: [],
      reordered: [],
      abortedReads: [],
      unexpected: [],
    },
    ...overrides,
  };
}

function reconciliation(
  producerBroker: Partial<HopCounts>,
  endToEnd = producerBroker,
): Reconciliation {
  return {
    run: null,
    messages: { attempted: 100, acked: 100, failed: 0, unknown: 0 },
    faults: [],
    hops: [hopCounts("producer-broker", producerBroker), hopCounts("end-to-end", endToEnd)],
    processor: null,
    complete: true,
    endReason: "completed",
    durationMs: 1000,
    producingMs: 800,
    unconfirmed: { messages: 0, partitions: [] },
    errors: [],
    liveness: [],
  };
}

const lostUnacked = {
  out: 97,
  lost: 3,
  lostUnacked: 3,
  examples: {
    lost: ["0:1", "0:2", "0:3"],
    lostAcked: [],
    lostUnacked: ["0:1", "0:2", "0:3"],
    duplicated: [],
    reordered: [],
    abortedReads: [],
    unexpected: [],
  },
};

describe("judge", () => {
  it("passes a clean run and gives each hop the report's shape", () => {
    const judgement = judge(reconciliation({}), { "end-to-end": ["lost", "duplicated"] });
    expect(judgement.verdict).toBe("pass");
    expect(judgement.violations).toEqual([]);
    expect(judgement.hops[0]).toEqual({
      name: "producer-broker",
      in: 100,
      out: 100,
      lost: 0,
      lostAcked: 0,
      lostUnacked: 0,
      duplicated: 0,
      abortedReads: 0,
      abortedVisible: 0,
      reordered: 0,
      unexpected: 0,
      allowed: { loss: "unacked", duplicates: true, reorder: true },
      ok: true,
      examples: hopCounts("producer-broker").examples,
    });
    expect(judgement.hops[1]!.allowed).toEqual({ loss: "none", duplicates: false, reorder: true });
  });

  it("allows unacked loss when the profile does not forbid loss (at-most-once)", () => {
    const judgement = judge(reconciliation(lostUnacked), { "end-to-end": ["duplicated"] });
    expect(judgement.verdict).toBe("pass");
    expect(judgement.hops.every((h) => h.ok)).toBe(true);
  });

  it("reports forbidden loss with the hop and the ids that prove it", () => {
    const judgement = judge(reconciliation({}, lostUnacked), { "end-to-end": ["lost"] });
    expect(judgement.verdict).toBe("violation");
    expect(judgement.hops.map((h) => h.ok)).toEqual([true, false]);
    expect(judgement.violations).toEqual([
      { hop: "end-to-end", count: "lost", value: 3, examples: ["0:1", "0:2", "0:3"] },
    ]);
  });

  it("always enforces lostAcked, even with no expectations", () => {
    const lostAcked = {
      out: 99,
      lost: 1,
      lostAcked: 1,
      examples: { ...lostUnacked.examples, lostAcked: ["1:7"] },
    };
    const judgement = judge(reconciliation(lostAcked, {}), {});
    expect(judgement.verdict).toBe("violation");
    expect(judgement.violations).toEqual([
      { hop: "producer-broker", count: "lostAcked", value: 1, examples: ["1:7"] },
    ]);
  });

  it("never lets unexpected records pass", () => {
    const foreign = {
      unexpected: 2,
      examples: { ...lostUnacked.examples, unexpected: ["5:0", "5:1"] },
    };
    const judgement = judge(reconciliation({}, foreign), {});
    expect(judgement.violations).toEqual([
      { hop: "end-to-end", count: "unexpected", value: 2, examples: ["5:0", "5:1"] },
    ]);
  });

  it("reports duplicates and reorders only where the profile forbids them", () => {
    const messy = {
      duplicated: 4,
      reordered: 2,
      examples: { ...lostUnacked.examples, duplicated: ["0:9"], reordered: ["0:4", "0:5"] },
    };
    const allowed = judge(reconciliation(messy), {});
    expect(allowed.verdict).toBe("pass");

    const judgement = judge(reconciliation(messy), {
      "producer-broker": ["duplicated", "reordered"],
    });
    expect(judgement.violations).toEqual([
      { hop: "producer-broker", count: "duplicated", value: 4, examples: ["0:9"] },
      { hop: "producer-broker", count: "reordered", value: 2, examples: ["0:4", "0:5"] },
    ]);
    expect(judgement.hops.map((h) => h.ok)).toEqual([false, true]);
  });
});

/** A run with a processor stage: the four hops, each with `overrides[name]`. */
function pipeline(overrides: Partial<Record<HopName, Partial<HopCounts>>>): Reconciliation {
  const names: HopName[] = ["producer-broker", "broker-consumer", "processor-output", "end-to-end"];
  return {
    ...reconciliation({}),
    hops: names.map((name) => hopCounts(name, overrides[name] ?? {})),
    processor: { processed: 100, aborted: 0, unknown: 0, workers: ["0.0"], crashes: [] },
  };
}

describe("judge, with a processor stage", () => {
  it("always enforces abortedReads, with the ids read, and never abortedVisible", () => {
    const aborted = {
      abortedReads: 2,
      abortedVisible: 5,
      examples: {
        ...lostUnacked.examples,
        lost: [],
        lostUnacked: [],
        abortedReads: ["0:3", "0:4"],
      },
    };
    const judgement = judge(pipeline({ "processor-output": aborted, "end-to-end": aborted }), {});
    expect(judgement.verdict).toBe("violation");
    expect(judgement.violations).toEqual([
      { hop: "processor-output", count: "abortedReads", value: 2, examples: ["0:3", "0:4"] },
      { hop: "end-to-end", count: "abortedReads", value: 2, examples: ["0:3", "0:4"] },
    ]);
    expect(judgement.hops.map((h) => [h.name, h.abortedReads, h.abortedVisible, h.ok])).toEqual([
      ["producer-broker", 0, 0, true],
      ["broker-consumer", 0, 0, true],
      ["processor-output", 2, 5, false],
      ["end-to-end", 2, 5, false],
    ]);

    const visibleOnly = { abortedVisible: 5 };
    const clean = judge(pipeline({ "processor-output": visibleOnly, "end-to-end": visibleOnly }), {
      "end-to-end": ["lost", "duplicated", "abortedReads"],
    });
    expect(clean.verdict).toBe("pass");
  });

  it("judges the counts a profile lists at the processor hops", () => {
    const dups = {
      duplicated: 3,
      examples: { ...lostUnacked.examples, lost: [], lostUnacked: [], duplicated: ["1:1"] },
    };
    const reDelivered = pipeline({ "broker-consumer": dups, "end-to-end": dups });
    expect(judge(reDelivered, { "end-to-end": ["lostAcked"] }).verdict).toBe("pass");
    const judgement = judge(reDelivered, {
      "broker-consumer": ["duplicated"],
      "processor-output": ["duplicated"],
    });
    expect(judgement.violations).toEqual([
      { hop: "broker-consumer", count: "duplicated", value: 3, examples: ["1:1"] },
    ]);
    expect(judgement.hops.map((h) => h.allowed.duplicates)).toEqual([true, false, false, true]);
  });

  it("does not judge a hop the run does not have", () => {
    const judgement = judge(reconciliation({}), {
      "broker-consumer": ["lost", "duplicated"],
      "processor-output": ["duplicated"],
    });
    expect(judgement.verdict).toBe("pass");
    expect(judgement.hops.map((h) => h.name)).toEqual(["producer-broker", "end-to-end"]);
  });
});

describe("allowedBy", () => {
  it("downstream of the broker, acked loss is the profile's call: an at-most-once consumer may skip", () => {
    expect(allowedBy(mustBeZero([], "broker-consumer")).loss).toBe("any");
    expect(allowedBy(mustBeZero([], "end-to-end")).loss).toBe("any");
    expect(allowedBy(mustBeZero(["lostAcked"], "end-to-end")).loss).toBe("unacked");
    expect(mustBeZero([], "end-to-end").has("abortedReads")).toBe(true);
  });

  it("forbids all loss when lost or lostUnacked must be zero, else only acked loss", () => {
    expect(allowedBy(mustBeZero([], "producer-broker")).loss).toBe("unacked");
    expect(allowedBy(mustBeZero(["lost"], "producer-broker")).loss).toBe("none");
    expect(allowedBy(mustBeZero(["lostUnacked"], "producer-broker")).loss).toBe("none");
    expect(allowedBy(mustBeZero(["duplicated", "reordered"], "processor-output"))).toEqual({
      loss: "unacked",
      duplicates: false,
      reorder: false,
    });
  });
});
