import { describe, expect, it } from "vitest";
import type { DrainedRecord, HistoryEvent, Outcome, TailSeen } from "../history/events.js";
import { profileSchema } from "../profiles/schema.js";
import { CLAIMS } from "./claims.js";
import { reconcile, Reconciler, type HopCounts, type Reconciliation } from "./reconcile.js";
import { judge } from "./verdict.js";

/** broker-storage: acked by a broker, then missing from the final drain; lost after visible. */

function started(acks = -1, output = false): HistoryEvent {
  return {
    type: "run",
    runId: "r1",
    profile: "test",
    seed: 1,
    startedAt: "2024-01-01T00:00:00.000Z",
    topics: output ? { input: "in", output: "out" } : { input: "in" },
    acks,
  };
}

/** Producer 0 sends [from, to] as one batch. */
function send(from: number, to: number, outcome: Outcome = "ok"): HistoryEvent[] {
  return [
    { type: "invoke", producer: 0, from, to, time: from },
    { type: outcome, producer: 0, from, to, time: to + 1 },
  ];
}

/** Producer 0's records on partition 0: [offset, seq] pairs. */
function records(pairs: [number, number][]): DrainedRecord[] {
  return pairs.map(([offset, seq]) => ({ partition: 0, offset, producer: 0, seq }));
}

/** Seqs [from, to] at offsets = seqs. */
function inOrder(from: number, to: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let seq = from; seq <= to; seq++) pairs.push([seq, seq]);
  return pairs;
}

function seen(time: number, triples: [number, number, number][], partition = 0): TailSeen {
  return { type: "seen", time, partition, records: triples };
}

function counts(h: HopCounts) {
  const { lost, lostAcked, lostUnacked, duplicated, reordered, unexpected } = h;
  return { in: h.in, out: h.out, lost, lostAcked, lostUnacked, duplicated, reordered, unexpected };
}

const ZERO = { lost: 0, lostAcked: 0, lostUnacked: 0, duplicated: 0, reordered: 0, unexpected: 0 };

function hop(result: Reconciliation, name: string): HopCounts {
  const found = result.hops.find((h) => h.name === name);
  if (!found) throw new Error(`no hop ${name}`);
  return found;
}

describe("broker-storage", () => {
  it("counts acked messages missing from the drain, once: not again at producer-broker", () => {
    const history = [started(), ...send(0, 9), ...send(10, 11, "unknown"), ...send(12, 12, "fail")];
    // lost: 2 and 5 (acked), 10 (unknown), 12 (failed)
    const drain = records(inOrder(0, 11).filter(([, seq]) => ![2, 5, 10].includes(seq)));
    const result = reconcile(history, drain, { tail: [] });

    expect(result.hops.map((h) => h.name)).toEqual([
      "producer-broker",
      "broker-storage",
      "end-to-end",
    ]);
    const stored = hop(result, "producer-broker");
    expect(counts(stored)).toEqual({ ...ZERO, in: 13, out: 11, lost: 2, lostUnacked: 2 });
    expect(stored.examples.lostUnacked).toEqual(["0:10", "0:12"]);
    expect(stored.examples.lostAcked).toEqual([]);
    const kept = hop(result, "broker-storage");
    expect(counts(kept)).toEqual({ ...ZERO, in: 10, out: 8, lost: 2, lostAcked: 2 });
    expect(kept.examples.lost).toEqual(["0:2", "0:5"]);
    expect(kept.examples.lostAcked).toEqual(["0:2", "0:5"]);
    expect(kept.lostAfterVisible).toBe(0);
    expect(kept.lostAfterVisibleExamples).toEqual([]);
    // end to end still sees every loss
    const endToEnd = hop(result, "end-to-end");
    expect(counts(endToEnd)).toEqual({
      ...ZERO,
      in: 13,
      out: 9,
      lost: 4,
      lostAcked: 2,
      lostUnacked: 2,
    });
    // the other hops carry no lostAfterVisible field: their JSON is as before
    expect("lostAfterVisible" in stored).toBe(false);
  });

  it("leaves an unconfirmed ok out: the broker never said it stored it", () => {
    const history: HistoryEvent[] = [
      started(),
      { type: "invoke", producer: 0, from: 0, to: 3, time: 0 },
      {
        type: "ok",
        producer: 0,
        from: 0,
        to: 3,
        time: 1,
        unconfirmed: { partitions: [0], seqs: [[2, 3]] },
      },
    ];
    const result = reconcile(history, records([[0, 0]]), { tail: [] });
    expect(counts(hop(result, "broker-storage"))).toEqual({
      ...ZERO,
      in: 2,
      out: 1,
      lost: 1,
      lostAcked: 1,
    });
    expect(counts(hop(result, "producer-broker"))).toEqual({
      ...ZERO,
      in: 4,
      out: 2,
      lost: 2,
      lostUnacked: 2,
    });
  });

  it("a send last refused with NotEnoughReplicas stays unknown when the tail saw one of its records", () => {
    const refused = send(4, 5, "unknown").map((e) =>
      e.type === "unknown"
        ? { ...e, error: "LibrdKafkaError [19]: Broker: Not enough in-sync replicas" }
        : e,
    );
    const history = [started(), ...send(0, 3), ...refused];
    // seq 5 was visible at offset 4, then truncated away: an earlier attempt had written it
    const tail = [seen(100, [[4, 0, 5]])];
    const result = reconcile(history, records(inOrder(0, 3)), { tail });
    expect(result.messages).toEqual({ attempted: 6, acked: 4, failed: 0, unknown: 2 });
    const none = reconcile(history, records(inOrder(0, 3)), { tail: [] });
    expect(none.messages).toEqual({ attempted: 6, acked: 4, failed: 2, unknown: 0 });
  });

  it("finds acked messages lost after being visible: truncated, then overwritten (one written again elsewhere is kept)", () => {
    const history = [started(), ...send(0, 7), ...send(8, 8, "unknown")];
    const tail = [
      seen(1200.4, [
        [0, 0, 0],
        [1, 0, 1],
        [2, 0, 2],
      ]),
      seen(3200, [
        [3, 0, 3],
        [4, 0, 4],
        [5, 0, 5],
        [6, 0, 8], // not acked: seen and lost, but no proof against the broker's word
        [7, 9, 1], // never invoked
      ]),
      // the reader re-read offset 3 after the truncation: what is there now
      seen(5000, [[3, 0, 6]]),
    ];
    // after a leader change: 3 and 4 hold other records, 4 was written again at 5 (a retry)
    const drain = records([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 6],
      [4, 7],
      [5, 4],
    ]);
    const result = reconcile(history, drain, { tail });
    const kept = hop(result, "broker-storage");

    expect(counts(kept)).toEqual({ ...ZERO, in: 8, out: 6, lost: 2, lostAcked: 2 });
    expect(kept.examples.lostAcked).toEqual(["0:3", "0:5"]);
    // 0:4 is in the drain at offset 5: kept (a read_uncommitted reader also sees copies of
    // aborted transactions that were retried), not lost
    expect(kept.lostAfterVisible).toBe(2);
    expect(kept.lostAfterVisibleExamples).toEqual([
      { id: "0:3", partition: 0, offset: 3, time: 3200 },
      { id: "0:5", partition: 0, offset: 5, time: 3200 },
    ]);
    // producer-broker: only the unknown seq 8 is lost; seq 4 came back after 7 (reordered)
    expect(counts(hop(result, "producer-broker"))).toEqual({
      ...ZERO,
      in: 9,
      out: 8,
      lost: 1,
      lostUnacked: 1,
      reordered: 1,
    });
  });

  it("counts a message seen at two lost offsets once, showing its first sighting", () => {
    const history = [started(), ...send(0, 2)];
    const tail = [
      seen(900, [[5, 0, 1]], 1),
      seen(100, [
        [0, 0, 0],
        [1, 0, 1],
      ]),
      seen(50, [[1, 0, 1]]), // seen again earlier (lines need not come in time order)
    ];
    const drain: DrainedRecord[] = [
      { partition: 0, offset: 0, producer: 0, seq: 0 },
      { partition: 0, offset: 1, producer: 0, seq: 2 },
    ];
    const kept = hop(reconcile(history, drain, { tail }), "broker-storage");
    expect(kept.lostAfterVisible).toBe(1);
    expect(kept.lostAfterVisibleExamples).toEqual([
      { id: "0:1", partition: 0, offset: 1, time: 50 },
    ]);
    expect(kept.lost).toBe(1);
  });

  it("does not count a message the drain holds elsewhere (an aborted copy, a retried write)", () => {
    const history = [started(), ...send(0, 1)];
    const tail = [seen(100, [[0, 0, 0]]), seen(200, [[1, 0, 1]])];
    const drain: DrainedRecord[] = [
      { partition: 0, offset: 2, producer: 0, seq: 0 },
      { partition: 0, offset: 3, producer: 0, seq: 1 },
    ];
    const kept = hop(reconcile(history, drain, { tail }), "broker-storage");
    expect(kept.lostAfterVisible).toBe(0);
    expect(kept.lost).toBe(0);
  });

  it("caps the examples at 10, smallest id first, over partitions", () => {
    const history = [started(), ...send(0, 29)];
    const tail = [0, 1, 2].map((p) =>
      seen(
        10 * p,
        Array.from({ length: 10 }, (_, i): [number, number, number] => [
          i,
          0,
          p * 10 + i,
        ]).reverse(),
        2 - p,
      ),
    );
    const kept = hop(reconcile(history, [], { tail }), "broker-storage");
    expect(kept.lostAfterVisible).toBe(30);
    expect(kept.lostAfterVisibleExamples!.map((e) => [e.id, e.partition])).toEqual(
      Array.from({ length: 10 }, (_, i) => [`0:${i}`, 2]),
    );
  });

  it("has no broker-storage hop with acks=0, nor without a tail", () => {
    const tail = [seen(1, [[0, 0, 0]])];
    const zero = reconcile([started(0), ...send(0, 3)], records(inOrder(0, 1)), { tail });
    expect(zero.hops.map((h) => h.name)).toEqual(["producer-broker", "end-to-end"]);
    expect(counts(zero.hops[0]!)).toEqual({ ...ZERO, in: 4, out: 2, lost: 2, lostUnacked: 2 });

    const noTail = reconcile([started(), ...send(0, 3)], records(inOrder(0, 1)));
    expect(noTail.hops.map((h) => h.name)).toEqual(["producer-broker", "end-to-end"]);
    expect(counts(noTail.hops[0]!)).toEqual({ ...ZERO, in: 4, out: 2, lost: 2, lostAcked: 2 });
  });

  it("sits between producer-broker and broker-consumer in a pipeline", () => {
    const history: HistoryEvent[] = [
      started(-1, true),
      ...send(0, 3),
      {
        type: "processed",
        worker: "0.0",
        partition: 0,
        fromOffset: 0,
        toOffset: 2,
        items: [
          [0, 0],
          [0, 1],
          [0, 2],
        ],
        outcome: "ok",
        output: { "0": [0, 3] },
        time: 10,
      },
    ];
    const input = records(inOrder(0, 2));
    const result = reconcile(history, input, { committed: input, tail: [] });
    expect(result.hops.map((h) => [h.name, h.in, h.out, h.lostAcked])).toEqual([
      ["producer-broker", 4, 4, 0],
      ["broker-storage", 4, 3, 1],
      ["broker-consumer", 3, 3, 0],
      ["processor-output", 3, 3, 0],
      ["end-to-end", 4, 3, 1],
    ]);
  });

  it("refuses a tail line after the input drain's records", () => {
    const reconciler = new Reconciler();
    reconciler.addRecord({ partition: 0, offset: 0, producer: 0, seq: 0 });
    expect(() => reconciler.addTail(seen(1, []))).toThrow(/before the input topic/);
  });

  it("is judged by every claim: acked loss is a violation, relaxable with a reason", () => {
    const history = [started(), ...send(0, 3)];
    const rec = reconcile(history, records(inOrder(0, 2)), { tail: [] });
    for (const claims of CLAIMS) {
      const judgement = judge(rec, {}, { claims });
      expect(judgement.verdict).toBe("violation");
      expect(judgement.violations.filter((v) => v.hop === "broker-storage")).toEqual([
        { hop: "broker-storage", count: "lostAcked", value: 1, examples: ["0:3"] },
      ]);
      expect(judgement.hops.find((h) => h.name === "producer-broker")!.ok).toBe(true);
    }
    const relax = [{ hop: "broker-storage" as const, count: "lostAcked" as const, reason: "x" }];
    const relaxed = judge(rec, {}, { claims: "at-least-once", relax });
    expect(relaxed.violations.map((v) => v.hop)).toEqual(["end-to-end"]);
    expect(relaxed.relaxed).toEqual(relax);
  });

  it("is a hop profiles can name in expect and relax", () => {
    const profile = profileSchema.parse({
      name: "p",
      claims: "at-least-once",
      expect: { "broker-storage": ["lost"] },
      relax: [{ hop: "broker-storage", count: "lostAcked", reason: "replication is off" }],
    });
    expect(profile.expect["broker-storage"]).toEqual(["lost"]);
    expect(profile.relax[0]?.hop).toBe("broker-storage");
  });
});
