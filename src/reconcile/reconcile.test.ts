import { describe, expect, it } from "vitest";
import type { DrainedRecord, HistoryEvent, Outcome } from "../history/events.js";
import { EXAMPLE_LIMIT, Reconciler, reconcile, type HopCounts } from "./reconcile.js";

function started(acks = -1): HistoryEvent {
  return {
    type: "run",
    runId: "r1",
    profile: "test",
    seed: 1,
    startedAt: "2024-01-01T00:00:00.000Z",
    topics: { input: "in" },
    acks,
  };
}

/** invoke + completion of [from, to]; no completion when outcome is null. */
function send(producer: number, from: number, to: number, outcome: Outcome | null = "ok") {
  const events: HistoryEvent[] = [{ type: "invoke", producer, from, to, time: from }];
  if (outcome) events.push({ type: outcome, producer, from, to, time: to + 1 });
  return events;
}

/** Builds drained records from [producer, seq, partition] in read order; offsets per partition. */
function drained(reads: [number, number, number][]): DrainedRecord[] {
  const next = new Map<number, number>();
  return reads.map(([producer, seq, partition]) => {
    const offset = next.get(partition) ?? 0;
    next.set(partition, offset + 1);
    return { partition, offset, producer, seq };
  });
}

/** Each seq of [from, to] once, in order, on one partition. */
function once(
  producer: number,
  from: number,
  to: number,
  partition = 0,
): [number, number, number][] {
  const reads: [number, number, number][] = [];
  for (let seq = from; seq <= to; seq++) reads.push([producer, seq, partition]);
  return reads;
}

function hop(history: HistoryEvent[], records: DrainedRecord[]): HopCounts {
  return reconcile(history, records).hops[0]!;
}

/** The numbers of a hop, without its name and examples. */
function counts(h: HopCounts) {
  const { lost, lostAcked, lostUnacked, duplicated, reordered, unexpected } = h;
  return { in: h.in, out: h.out, lost, lostAcked, lostUnacked, duplicated, reordered, unexpected };
}

const ZERO = { lost: 0, lostAcked: 0, lostUnacked: 0, duplicated: 0, reordered: 0, unexpected: 0 };

describe("reconcile", () => {
  it("reports all zero for a clean run over several producers and partitions", () => {
    const history = [started(), ...send(0, 0, 99), ...send(1, 0, 99)];
    const reads: [number, number, number][] = [];
    for (let seq = 0; seq < 100; seq++) reads.push([0, seq, seq % 3], [1, seq, (seq + 1) % 3]);
    const result = reconcile(history, drained(reads));

    expect(result.messages).toEqual({ attempted: 200, acked: 200, failed: 0, unknown: 0 });
    expect(result.hops.map((h) => h.name)).toEqual(["producer-broker", "end-to-end"]);
    for (const h of result.hops) {
      expect(counts(h)).toEqual({ in: 200, out: 200, ...ZERO });
      expect(Object.values(h.examples).flat()).toEqual([]);
    }
  });

  it("splits losses into acked and unacked", () => {
    const history = [
      started(),
      ...send(0, 0, 4),
      ...send(0, 5, 7, "fail"),
      ...send(0, 8, 9, "unknown"),
    ];
    const records = drained(once(0, 0, 9).filter(([, seq]) => ![2, 6, 9].includes(seq)));
    const result = reconcile(history, records);
    const h = result.hops[0]!;

    expect(result.messages).toEqual({ attempted: 10, acked: 5, failed: 3, unknown: 2 });
    expect(counts(h)).toEqual({ ...ZERO, in: 10, out: 7, lost: 3, lostAcked: 1, lostUnacked: 2 });
    expect(h.examples.lost).toEqual(["0:2", "0:6", "0:9"]);
    expect(h.examples.lostAcked).toEqual(["0:2"]);
    expect(h.examples.lostUnacked).toEqual(["0:6", "0:9"]);
  });

  it("counts extra copies: 3 copies add 2", () => {
    const reads = once(0, 0, 9);
    reads.push([0, 3, 0], [0, 3, 0], [0, 5, 0]);
    const h = hop([started(), ...send(0, 0, 9)], drained(reads));

    expect(counts(h)).toEqual({ ...ZERO, in: 10, out: 10, duplicated: 3 });
    expect(h.examples.duplicated).toEqual(["0:3", "0:5"]);
  });

  it("counts a copy beyond the byte counter's range exactly", () => {
    const reads = once(0, 0, 1);
    for (let i = 0; i < 299; i++) reads.push([0, 1, 0]);
    const h = hop([started(), ...send(0, 0, 1)], drained(reads));
    expect(h.duplicated).toBe(299);
  });

  it("tells a reorder (first copy going backwards) from a duplicate (re-seen copy)", () => {
    // partition 0: 0 1 3 2 1 4 → 2 is reordered, the second 1 is a duplicate
    const reads: [number, number, number][] = [0, 1, 3, 2, 1, 4].map((seq) => [0, seq, 0]);
    const h = hop([started(), ...send(0, 0, 4)], drained(reads));
    expect(counts(h)).toEqual({ ...ZERO, in: 5, out: 5, duplicated: 1, reordered: 1 });
    expect(h.examples.reordered).toEqual(["0:2"]);
    expect(h.examples.duplicated).toEqual(["0:1"]);
  });

  it("judges order per producer and per partition", () => {
    const reads: [number, number, number][] = [
      [0, 0, 0],
      [0, 2, 0],
      [0, 1, 1], // lower seq, but a different partition
      [1, 0, 0], // lower seq, but a different producer
      [0, 5, 1],
      [0, 6, 0],
      [0, 5, 0], // first seen on partition 1: a duplicate, not a reorder
      [0, 3, 0], // first copy, below 6 on partition 0: reordered
      [0, 4, 1], // first copy, below 5 on partition 1: reordered
    ];
    const h = hop([started(), ...send(0, 0, 6), ...send(1, 0, 0)], drained(reads));
    expect(counts(h)).toEqual({ ...ZERO, in: 8, out: 8, duplicated: 1, reordered: 2 });
    expect(h.examples.reordered).toEqual(["0:3", "0:4"]);
  });

  it("counts an invoke with no completion as unknown", () => {
    const history = [started(), ...send(0, 0, 4), ...send(0, 5, 9, null)];
    const result = reconcile(history, drained(once(0, 0, 6)));
    expect(result.messages).toEqual({ attempted: 10, acked: 5, failed: 0, unknown: 5 });
    expect(counts(result.hops[0]!)).toEqual({ ...ZERO, in: 10, out: 7, lost: 3, lostUnacked: 3 });
  });

  it("counts ok as unknown when the run used acks=0", () => {
    const result = reconcile([started(0), ...send(0, 0, 9)], drained(once(0, 0, 7)));
    expect(result.messages).toEqual({ attempted: 10, acked: 0, failed: 0, unknown: 10 });
    expect(counts(result.hops[0]!)).toEqual({ ...ZERO, in: 10, out: 8, lost: 2, lostUnacked: 2 });
  });

  it("keeps the strongest of several completions of one seq", () => {
    const history = [
      started(),
      ...send(0, 0, 3, "fail"),
      ...send(0, 0, 1, "ok"), // resent and acked
      ...send(0, 2, 2, "unknown"),
      { type: "invoke", producer: 0, from: 0, to: 3, time: 9 } as HistoryEvent, // re-invoked
    ];
    const result = reconcile(history, []);
    expect(result.messages).toEqual({ attempted: 4, acked: 2, failed: 1, unknown: 1 });
    expect(result.hops[0]!.lostAcked).toBe(2);
  });

  it("counts records never invoked as unexpected, apart from every other count", () => {
    const reads = once(0, 0, 4);
    reads.push([0, 7, 0], [0, 7, 0], [9, 1, 1], [9, 0, 1], [0, 6, 1], [0, -1, 2], [0, 0.5, 2]);
    const h = hop([started(), ...send(0, 0, 4)], drained(reads));

    expect(counts(h)).toEqual({ ...ZERO, in: 5, out: 5, unexpected: 6 });
    expect(h.examples.unexpected).toEqual(["0:6", "0:7", "9:0", "9:1", "0:-1", "0:0.5"]);
  });

  it("works across page boundaries and sparse seqs", () => {
    const history = [started(), ...send(0, 65_530, 65_540), ...send(0, 1_000_000, 1_000_001)];
    const reads = once(0, 65_530, 65_540).filter(([, seq]) => seq !== 65_536);
    reads.push([0, 1_000_001, 0], [0, 1_000_000, 0], [0, 5_000_000_000, 1]);
    const h = hop(history, drained(reads));
    expect(counts(h)).toEqual({
      ...ZERO,
      in: 13,
      out: 12,
      lost: 1,
      lostAcked: 1,
      reordered: 1,
      unexpected: 1,
    });
    expect(h.examples.lost).toEqual(["0:65536"]);
    expect(h.examples.reordered).toEqual(["0:1000000"]);
    expect(h.examples.unexpected).toEqual(["0:5000000000"]);
  });

  it("lists examples smallest first, by producer then seq, at most 10", () => {
    const history = [started(), ...send(10, 0, 19), ...send(2, 0, 19)].reverse();
    const kept = ([, seq]: [number, number, number]) => seq % 4 !== 0;
    const reads = [...once(10, 0, 19), ...once(2, 0, 19)].filter(kept);
    // read again: 10:6..19 backwards, and the even seqs of producer 2
    reads.push(...once(10, 6, 19, 1).filter(kept).reverse());
    reads.push(...once(2, 0, 19, 2).filter((r) => kept(r) && r[1] % 2 === 0));
    const h = hop(history, drained(reads));

    expect(h.lost).toBe(10);
    expect(h.examples.lost).toEqual([
      "2:0",
      "2:4",
      "2:8",
      "2:12",
      "2:16",
      "10:0",
      "10:4",
      "10:8",
      "10:12",
      "10:16",
    ]);
    expect(h.duplicated).toBe(5 + 11);
    expect(h.examples.duplicated).toHaveLength(EXAMPLE_LIMIT);
    expect(h.examples.duplicated).toEqual([
      "2:2",
      "2:6",
      "2:10",
      "2:14",
      "2:18",
      "10:6",
      "10:7",
      "10:9",
      "10:10",
      "10:11",
    ]);
  });

  it("gives the same answer whatever the order of events and records", () => {
    const history = [started(), ...send(0, 0, 9), ...send(1, 0, 9, "fail")];
    const records = drained([...once(0, 0, 8), [0, 3, 0], ...once(1, 2, 9, 1)]);
    const reconciler = new Reconciler();
    for (const r of records) reconciler.addRecord(r);
    for (const e of [...history].reverse()) reconciler.addEvent(e);
    expect(reconciler.result()).toEqual(reconcile(history, records));
  });

  it("pairs fault start/stop and reports the end of the run", () => {
    const history: HistoryEvent[] = [
      started(),
      { type: "fault", phase: "start", fault: "cut", target: "b1", time: 10 },
      { type: "fault", phase: "start", fault: "cut", target: "b2", time: 12 },
      { type: "fault", phase: "stop", fault: "cut", target: "b1", time: 20 },
      { type: "fault", phase: "stop", fault: "latency", target: "b1", time: 21 },
      { type: "fault", phase: "start", fault: "cut", target: "b1", time: 30 },
      { type: "fault", phase: "stop", fault: "cut", target: "b1", time: 40 },
      { type: "end", time: 50, reason: "interrupted" },
    ];
    const result = reconcile(history, []);
    expect(result.faults).toEqual([
      { type: "cut", target: "b1", startMs: 10, endMs: 20 },
      { type: "cut", target: "b2", startMs: 12, endMs: null },
      { type: "cut", target: "b1", startMs: 30, endMs: 40 },
    ]);
    expect(result.complete).toBe(true);
    expect(result.endReason).toBe("interrupted");
    expect(result.durationMs).toBe(50);
    expect(result.run?.runId).toBe("r1");
  });

  it("marks a history with no end event as incomplete", () => {
    const result = reconcile(send(0, 0, 0), []);
    expect(result).toMatchObject({ complete: false, endReason: null, durationMs: 1, run: null });
  });

  it("rejects records out of offset order and bad send ranges", () => {
    const reconciler = new Reconciler();
    reconciler.addRecord({ partition: 0, offset: 5, producer: 0, seq: 0 });
    expect(() => reconciler.addRecord({ partition: 0, offset: 5, producer: 0, seq: 1 })).toThrow(
      /partition 0 out of offset order/,
    );
    expect(() =>
      reconciler.addEvent({ type: "invoke", producer: 0, from: 3, to: 2, time: 0 }),
    ).toThrow(RangeError);
  });

  it("counts a message in two overlapping unconfirmed ranges of an ok once", () => {
    const ok: HistoryEvent = {
      type: "ok",
      producer: 0,
      from: 0,
      to: 9,
      time: 10,
      unconfirmed: {
        partitions: [1],
        seqs: [
          [4, 7],
          [2, 5],
        ],
      },
    };
    const history = [started(), send(0, 0, 9, null)[0]!, ok];
    const result = reconcile(history, drained(once(0, 0, 9)));
    expect(result.messages).toEqual({ attempted: 10, acked: 4, failed: 0, unknown: 6 });
    expect(result.unconfirmed).toEqual({ messages: 6, partitions: [1] });
  });

  it("orders error groups with as many messages the same whatever the order of events", () => {
    const history = [started(), ...send(0, 0, 1, "unknown"), ...send(1, 0, 1, "fail")];
    const none = { cause: "(no error recorded)", error: "(no error recorded)", addresses: [] };
    const groups = [
      { outcome: "fail", ...none, sends: 1, messages: 2 },
      { outcome: "unknown", ...none, sends: 1, messages: 2 },
    ];
    expect(reconcile(history, []).errors).toEqual(groups);
    expect(reconcile([...history].reverse(), []).errors).toEqual(groups);
  });

  it("groups errors by cause: one cause against several brokers is one group naming them", () => {
    const refused = (port: number) =>
      `KafkaJSConnectionError: connect ECONNREFUSED 127.0.0.1:${port}`;
    const at = (producer: number, error: string) =>
      send(producer, 0, 1, "unknown").map((e) => (e.type === "unknown" ? { ...e, error } : e));
    const history = [
      started(),
      ...at(0, refused(21002)),
      ...at(1, refused(21001)),
      ...at(2, "KafkaJSProtocolError [REQUEST_TIMED_OUT]: The request timed out"),
    ];
    expect(reconcile(history, []).errors).toEqual([
      {
        outcome: "unknown",
        cause: "KafkaJSConnectionError: connect ECONNREFUSED <address>",
        error: refused(21002),
        addresses: ["127.0.0.1:21001", "127.0.0.1:21002"],
        sends: 2,
        messages: 4,
      },
      {
        outcome: "unknown",
        cause: "KafkaJSProtocolError [REQUEST_TIMED_OUT]: The request timed out",
        error: "KafkaJSProtocolError [REQUEST_TIMED_OUT]: The request timed out",
        addresses: [],
        sends: 1,
        messages: 2,
      },
    ]);
  });

  describe("an unknown send the broker last refused (NotEnoughReplicas)", () => {
    const refusedBy = (error: string, from: number, to: number) =>
      send(0, from, to, "unknown").map((e) => (e.type === "unknown" ? { ...e, error } : e));
    const KAFKAJS =
      "KafkaJSNumberOfRetriesExceeded [NOT_ENOUGH_REPLICAS]: Messages are rejected since there are fewer in-sync replicas than required";
    const RDKAFKA = "LibrdKafkaError [19]: Broker: Not enough in-sync replicas";
    const AFTER_APPEND =
      "KafkaJSProtocolError [NOT_ENOUGH_REPLICAS_AFTER_APPEND]: Messages are written to the log, but to fewer in-sync replicas than required";

    it("is refused (failed) when none of its records is in the log, with either client", () => {
      const history = [started(), ...send(0, 0, 4), ...refusedBy(KAFKAJS, 5, 9)];
      const result = reconcile(history, drained(once(0, 0, 4)));
      expect(result.messages).toEqual({ attempted: 10, acked: 5, failed: 5, unknown: 0 });
      expect(result.errors.map((g) => [g.outcome, g.messages])).toEqual([["fail", 5]]);
      const rd = reconcile([started(), ...refusedBy(RDKAFKA, 0, 3)], []);
      expect(rd.messages).toEqual({ attempted: 4, acked: 0, failed: 4, unknown: 0 });
    });

    it("stays unknown when the log holds any of its records (an earlier attempt wrote it)", () => {
      const history = [started(), ...refusedBy(KAFKAJS, 0, 4)];
      const result = reconcile(history, drained(once(0, 3, 3)));
      expect(result.messages).toEqual({ attempted: 5, acked: 0, failed: 0, unknown: 5 });
      expect(result.errors.map((g) => [g.outcome, g.messages])).toEqual([["unknown", 5]]);
    });

    it("stays unknown for NOT_ENOUGH_REPLICAS_AFTER_APPEND: the records were written", () => {
      const result = reconcile([started(), ...refusedBy(AFTER_APPEND, 0, 4)], []);
      expect(result.messages).toEqual({ attempted: 5, acked: 0, failed: 0, unknown: 5 });
    });

    it("a later ok of the same records still wins", () => {
      const history = [started(), ...refusedBy(RDKAFKA, 0, 4), ...send(0, 0, 4)];
      const result = reconcile(history, drained(once(0, 0, 4)));
      expect(result.messages).toEqual({ attempted: 5, acked: 5, failed: 0, unknown: 0 });
    });
  });

  it("lists records without an identity smallest first, whatever the partitions' interleaving", () => {
    const history = [started(), ...send(0, 0, 0)];
    const records: DrainedRecord[] = [
      { partition: 1, offset: 0, producer: -1, seq: 5 },
      { partition: 0, offset: 0, producer: -1, seq: 2 },
      { partition: 1, offset: 1, producer: 0, seq: -1 },
    ];
    const expected = ["-1:2", "-1:5", "0:-1"];
    expect(hop(history, records).examples.unexpected).toEqual(expected);
    const [r1, r0, r2] = records as [DrainedRecord, DrainedRecord, DrainedRecord];
    expect(hop(history, [r0, r1, r2]).examples.unexpected).toEqual(expected);
  });

  it("scales: 1e6 messages, every 1000th lost, every 777th duplicated", () => {
    const n = 1_000_000;
    const multiples = (k: number) => Math.ceil(n / k); // of k in [0, n)
    const history = function* (): Generator<HistoryEvent> {
      yield started();
      for (let from = 0; from < n; from += 500) yield* send(0, from, Math.min(n, from + 500) - 1);
    };
    const records = function* (): Generator<DrainedRecord> {
      const offsets = [0, 0, 0];
      for (let seq = 0; seq < n; seq++) {
        if (seq % 1000 === 0) continue;
        const partition = seq % 3;
        const copies = seq % 777 === 0 ? 2 : 1;
        for (let c = 0; c < copies; c++) {
          yield { partition, offset: offsets[partition]!++, producer: 0, seq };
        }
      }
    };
    const h = reconcile(history(), records()).hops[0]!;

    const lost = multiples(1000);
    const duplicated = multiples(777) - multiples(777 * 1000); // lcm: 777 and 1000 are coprime
    expect(counts(h)).toEqual({ ...ZERO, in: n, out: n - lost, lost, lostAcked: lost, duplicated });
    expect(h.examples.lost).toEqual(Array.from({ length: 10 }, (_, i) => `0:${i * 1000}`));
    expect(h.examples.duplicated.slice(0, 3)).toEqual(["0:777", "0:1554", "0:2331"]);
  });
});
