import { describe, expect, it } from "vitest";
import type { DrainedRecord, HistoryEvent, ProcessedEvent } from "../history/events.js";
import { Reconciler, reconcile, type HopCounts, type Reconciliation } from "./reconcile.js";
import { judge } from "./verdict.js";

/** Runs with a processor stage: producer → input → processor → output. */

function started(acks = -1): HistoryEvent {
  return {
    type: "run",
    runId: "r1",
    profile: "test",
    seed: 1,
    startedAt: "2024-01-01T00:00:00.000Z",
    topics: { input: "in", output: "out" },
    acks,
  };
}

/** Producer 0 sends [from, to] as one batch. */
function send(from: number, to: number, outcome: "ok" | "fail" | "unknown" = "ok") {
  const events: HistoryEvent[] = [{ type: "invoke", producer: 0, from, to, time: from }];
  events.push({ type: outcome, producer: 0, from, to, time: to + 1 });
  return events;
}

/** A chunk of producer 0's seqs [from, to], read at input offsets = seqs on partition 0. */
function processed(
  worker: string,
  from: number,
  to: number,
  outcome: ProcessedEvent["outcome"],
  outputBase?: number,
  time = 100 + from,
): ProcessedEvent {
  const items: [number, number][] = [];
  for (let seq = from; seq <= to; seq++) items.push([0, seq]);
  return {
    type: "processed",
    worker,
    partition: 0,
    fromOffset: from,
    toOffset: to,
    items,
    outcome,
    ...(outputBase === undefined ? {} : { output: { "0": [outputBase, items.length] } }),
    time,
  };
}

function worker(phase: "start" | "crash" | "stop", name: string, time: number, point?: string) {
  return { type: "worker", phase, worker: name, time, ...(point ? { point } : {}) } as HistoryEvent;
}

/** Records of producer 0 on partition 0: [offset, seq] pairs. */
function records(pairs: [number, number][]): DrainedRecord[] {
  return pairs.map(([offset, seq]) => ({ partition: 0, offset, producer: 0, seq }));
}

/** Seqs [from, to] at consecutive offsets starting at `base`. */
function run(base: number, from: number, to: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let seq = from; seq <= to; seq++) pairs.push([base + seq - from, seq]);
  return pairs;
}

/** The numbers of a hop, without its name and examples. */
function counts(h: HopCounts) {
  const { lost, lostAcked, lostUnacked, duplicated, reordered, unexpected } = h;
  const { abortedReads, abortedVisible } = h;
  return {
    in: h.in,
    out: h.out,
    lost,
    lostAcked,
    lostUnacked,
    duplicated,
    reordered,
    abortedReads,
    abortedVisible,
    unexpected,
  };
}

const ZERO = {
  lost: 0,
  lostAcked: 0,
  lostUnacked: 0,
  duplicated: 0,
  reordered: 0,
  abortedReads: 0,
  abortedVisible: 0,
  unexpected: 0,
};

function byName(result: Reconciliation) {
  const hops = new Map(result.hops.map((h) => [h.name, h]));
  return {
    stored: hops.get("producer-broker")!,
    consumed: hops.get("broker-consumer")!,
    written: hops.get("processor-output")!,
    endToEnd: hops.get("end-to-end")!,
  };
}

const INPUT = records(run(0, 0, 9));

describe("reconcile with a processor stage", () => {
  it("gives four hops in order, all zero for a clean run", () => {
    const history = [
      started(),
      ...send(0, 9),
      worker("start", "0.0", 5),
      processed("0.0", 0, 4, "ok", 0),
      processed("0.0", 5, 9, "ok", 5),
      worker("stop", "0.0", 200),
    ];
    const result = reconcile(history, INPUT, {
      committed: records(run(0, 0, 9)),
      uncommitted: records(run(0, 0, 9)),
    });
    expect(result.hops.map((h) => h.name)).toEqual([
      "producer-broker",
      "broker-consumer",
      "processor-output",
      "end-to-end",
    ]);
    for (const h of result.hops) {
      expect(counts(h)).toEqual({ ...ZERO, in: 10, out: 10 });
      expect(Object.values(h.examples).flat()).toEqual([]);
    }
    expect(result.messages).toEqual({ attempted: 10, acked: 10, failed: 0, unknown: 0 });
    expect(result.processor).toEqual({
      processed: 10,
      aborted: 0,
      unknown: 0,
      workers: ["0.0"],
      crashes: [],
    });
    expect(result.durationMs).toBe(200);
  });

  it("commit before processing, crash: skipped records are lost at broker → consumer", () => {
    const history = [
      started(),
      ...send(0, 9),
      worker("start", "0.0", 5),
      processed("0.0", 0, 4, "ok", 0),
      // chunk 5..9: offsets committed, then killed before processing it
      worker("crash", "0.0", 150, "after-commit-before-process"),
      worker("start", "0.1", 160),
    ];
    const result = reconcile(history, INPUT, { committed: records(run(0, 0, 4)) });
    const { stored, consumed, written, endToEnd } = byName(result);
    const skipped = ["0:5", "0:6", "0:7", "0:8", "0:9"];

    expect(counts(stored)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 5, lost: 5, lostAcked: 5 });
    expect(consumed.examples.lost).toEqual(skipped);
    expect(consumed.examples.lostAcked).toEqual(skipped);
    expect(counts(written)).toEqual({ ...ZERO, in: 5, out: 5 });
    expect(counts(endToEnd)).toEqual({ ...ZERO, in: 10, out: 5, lost: 5, lostAcked: 5 });
    expect(result.processor).toEqual({
      processed: 5,
      aborted: 0,
      unknown: 0,
      workers: ["0.0", "0.1"],
      crashes: [{ worker: "0.0", point: "after-commit-before-process", time: 150 }],
    });
  });

  it("commit before processing with acks=0: the skipped records are lost unacked", () => {
    const history = [started(0), ...send(0, 9), processed("0.0", 0, 4, "ok", 0)];
    const { consumed, endToEnd } = byName(
      reconcile(history, INPUT, { committed: records(run(0, 0, 4)) }),
    );
    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 5, lost: 5, lostUnacked: 5 });
    expect(counts(endToEnd)).toEqual({ ...ZERO, in: 10, out: 5, lost: 5, lostUnacked: 5 });
  });

  it("commit after processing, crash: re-processing duplicates, no loss", () => {
    const history = [
      started(),
      ...send(0, 9),
      worker("start", "0.0", 5),
      processed("0.0", 0, 4, "ok", 0),
      processed("0.0", 5, 9, "ok", 5),
      worker("crash", "0.0", 150, "after-process-before-commit"),
      worker("start", "0.1", 160),
      processed("0.1", 5, 9, "ok", 10, 170),
    ];
    const output = records([...run(0, 0, 9), ...run(10, 5, 9)]);
    const result = reconcile(history, INPUT, { committed: output, uncommitted: output });
    const { stored, consumed, written, endToEnd } = byName(result);
    const again = ["0:5", "0:6", "0:7", "0:8", "0:9"];

    expect(counts(stored)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 10, duplicated: 5 });
    expect(consumed.examples.duplicated).toEqual(again);
    expect(counts(written)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(endToEnd)).toEqual({ ...ZERO, in: 10, out: 10, duplicated: 5 });
    expect(endToEnd.examples.duplicated).toEqual(again);
    expect(result.processor?.processed).toBe(15);
  });

  it("a producer retry stored twice and processed twice is producer-broker's duplicate only", () => {
    const history = [
      started(),
      ...send(0, 9),
      worker("start", "0.0", 5),
      processed("0.0", 0, 9, "ok", 0),
      // the input holds seqs 5..9 a second time (offsets 10..14): a lost ack, retried
      processed("0.0", 5, 9, "ok", 10),
    ];
    const input = records([...run(0, 0, 9), ...run(10, 5, 9)]);
    const output = records([...run(0, 0, 9), ...run(10, 5, 9)]);
    const result = reconcile(history, input, { committed: output, uncommitted: output });
    const { stored, consumed, written, endToEnd } = byName(result);

    expect(counts(stored)).toEqual({ ...ZERO, in: 10, out: 10, duplicated: 5 });
    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(written)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(endToEnd)).toEqual({ ...ZERO, in: 10, out: 10, duplicated: 5 });
  });

  it("an interrupted run does not judge downstream loss, a completed one does", () => {
    const base = [started(), ...send(0, 9), processed("0.0", 0, 4, "ok", 0)];
    const output = records(run(0, 0, 4));
    const expect_ = { "broker-consumer": ["lost" as const], "end-to-end": ["lost" as const] };
    const stopped = reconcile(base, INPUT, { committed: output, uncommitted: output });
    const done = reconcile([...base, { type: "end", time: 500, reason: "completed" }], INPUT, {
      committed: output,
      uncommitted: output,
    });

    expect(byName(stopped).consumed.lost).toBe(5);
    expect(judge(stopped, expect_).verdict).toBe("pass");
    expect(judge(stopped, expect_).hops[1]?.allowed.loss).toBe("any");
    expect(judge(done, expect_).verdict).toBe("violation");
  });

  it("an output producer retry duplicates at processor → output only", () => {
    // chunk 5..9: the first write landed at 5..9 but its ack was lost; the retry is at 10..14
    const history = [
      started(),
      ...send(0, 9),
      processed("0.0", 0, 4, "ok", 0),
      processed("0.0", 5, 9, "ok", 10),
    ];
    const output = records([...run(0, 0, 9), ...run(10, 5, 9)]);
    const { stored, consumed, written, endToEnd } = byName(
      reconcile(history, INPUT, { committed: output }),
    );
    expect(counts(stored)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(written)).toEqual({ ...ZERO, in: 10, out: 10, duplicated: 5 });
    expect(written.examples.duplicated).toEqual(["0:5", "0:6", "0:7", "0:8", "0:9"]);
    expect(counts(endToEnd)).toEqual({ ...ZERO, in: 10, out: 10, duplicated: 5 });
  });

  it("a transaction aborted, retried and committed: nothing lost or duplicated", () => {
    // offsets: 0..4 aborted, 5 abort marker, 6..10 committed, 11 marker, 12..16, 17 marker
    const history = [
      started(),
      ...send(0, 9),
      processed("0.0", 0, 4, "aborted", 0),
      processed("0.0", 0, 4, "ok", 6),
      processed("0.0", 5, 9, "ok", 12),
    ];
    const committed = records([...run(6, 0, 4), ...run(12, 5, 9)]);
    const uncommitted = records([...run(0, 0, 4), ...run(6, 0, 4), ...run(12, 5, 9)]);
    const result = reconcile(history, INPUT, { committed, uncommitted });
    const { stored, consumed, written, endToEnd } = byName(result);

    expect(counts(stored)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(written)).toEqual({ ...ZERO, in: 10, out: 10, abortedVisible: 5 });
    expect(counts(endToEnd)).toEqual({ ...ZERO, in: 10, out: 10, abortedVisible: 5 });
    expect(endToEnd.examples.abortedReads).toEqual([]);
    expect(result.processor).toMatchObject({ processed: 10, aborted: 5, unknown: 0 });

    const judgement = judge(result, { "end-to-end": ["lost", "duplicated", "abortedReads"] });
    expect(judgement.verdict).toBe("pass");
  });

  it("an aborted range read read_committed is an aborted read and a violation", () => {
    const history = [
      started(),
      ...send(0, 9),
      processed("0.0", 0, 4, "aborted", 0),
      processed("0.0", 0, 4, "ok", 6),
      processed("0.0", 5, 9, "ok", 12),
    ];
    // the reader wrongly sees 1..3 of the aborted 0..4
    const committed = records([...run(1, 1, 3), ...run(6, 0, 4), ...run(12, 5, 9)]);
    const uncommitted = records([...run(0, 0, 4), ...run(6, 0, 4), ...run(12, 5, 9)]);
    const result = reconcile(history, INPUT, { committed, uncommitted });
    const { consumed, written, endToEnd } = byName(result);
    const read = ["0:1", "0:2", "0:3"];

    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 10 });
    // 0:0 comes after 0:3 on the output partition: reordered as well
    const seenTwice = {
      in: 10,
      out: 10,
      duplicated: 3,
      reordered: 1,
      abortedReads: 3,
      abortedVisible: 5,
    };
    expect(counts(written)).toEqual({ ...ZERO, ...seenTwice });
    expect(counts(endToEnd)).toEqual({ ...ZERO, ...seenTwice });
    expect(written.examples.abortedReads).toEqual(read);
    expect(endToEnd.examples.abortedReads).toEqual(read);

    const judgement = judge(result, {});
    expect(judgement.verdict).toBe("violation");
    expect(judgement.violations).toEqual([
      { hop: "processor-output", count: "abortedReads", value: 3, examples: read },
      { hop: "end-to-end", count: "abortedReads", value: 3, examples: read },
    ]);

    // Drains first, histories after (each processor file in reverse): the same answer.
    const reconciler = new Reconciler();
    for (const r of uncommitted) reconciler.addOutputRecord(r, "uncommitted");
    for (const r of committed) reconciler.addOutputRecord(r, "committed");
    for (const r of INPUT) reconciler.addRecord(r);
    for (const e of [...history].reverse()) reconciler.addEvent(e);
    expect(reconciler.result()).toEqual(result);
  });

  it("counts an aborted offset once even when two aborted chunks claim it", () => {
    const history = [
      started(),
      ...send(0, 9),
      processed("0.0", 0, 4, "aborted", 0),
      processed("0.1", 2, 6, "aborted", 2),
      processed("0.1", 0, 9, "ok", 20),
    ];
    const committed = records([...run(0, 0, 6), ...run(20, 0, 9)]);
    const { written } = byName(reconcile(history, INPUT, { committed, uncommitted: committed }));
    expect(written.abortedReads).toBe(7);
    expect(written.abortedVisible).toBe(7);
  });

  it("a crash between the output write and the history flush is no loss", () => {
    // chunk 5..9 was written to 5..9, then the worker died before recording it
    const history = [
      started(),
      ...send(0, 9),
      worker("start", "0.0", 5),
      processed("0.0", 0, 4, "ok", 0),
      worker("crash", "0.0", 150),
    ];
    const result = reconcile(history, INPUT, { committed: records(run(0, 0, 9)) });
    const { stored, consumed, written, endToEnd } = byName(result);

    expect(counts(stored)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(written)).toEqual({ ...ZERO, in: 5, out: 5 });
    expect(counts(endToEnd)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(result.processor?.crashes).toEqual([{ worker: "0.0", point: null, time: 150 }]);
  });

  it("an acked output write missing from the output topic is lost acked at processor → output", () => {
    const history = [
      started(),
      ...send(0, 9),
      processed("0.0", 0, 4, "ok", 0),
      processed("0.0", 5, 9, "ok", 5),
      processed("0.0", 5, 9, "unknown"),
    ];
    const committed = records([...run(0, 0, 4), [5, 5], [7, 7], [8, 8], [9, 9]]);
    const result = reconcile(history, INPUT, { committed });
    const { consumed, written, endToEnd } = byName(result);

    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(written)).toEqual({ ...ZERO, in: 10, out: 9, lost: 1, lostAcked: 1 });
    expect(written.examples.lostAcked).toEqual(["0:6"]);
    expect(counts(endToEnd)).toEqual({ ...ZERO, in: 10, out: 9, lost: 1, lostAcked: 1 });
    expect(result.processor).toMatchObject({ processed: 10, aborted: 0, unknown: 5 });
  });

  it("judges order and foreign records on the output topic per producer and partition", () => {
    const history = [started(), ...send(0, 9), processed("0.0", 0, 9, "ok", 0)];
    // output: 0 1 2 4 3 5..9, then identities never invoked
    const committed = records([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 4],
      [4, 3],
      ...run(5, 5, 9),
      [10, 42],
      [11, 42],
    ]);
    committed.push({ partition: 1, offset: 0, producer: 7, seq: 0 });
    committed.push({ partition: 1, offset: 1, producer: -1, seq: -1 });
    const { stored, consumed, written, endToEnd } = byName(
      reconcile(history, INPUT, { committed }),
    );
    const messy = { ...ZERO, in: 10, out: 10, reordered: 1, unexpected: 3 };
    expect(counts(stored)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(consumed)).toEqual({ ...ZERO, in: 10, out: 10 });
    expect(counts(written)).toEqual(messy);
    expect(counts(endToEnd)).toEqual(messy);
    for (const h of [written, endToEnd]) {
      expect(h.examples.reordered).toEqual(["0:3"]);
      expect(h.examples.unexpected).toEqual(["0:42", "7:0", "no identity at partition 1 offset 1"]);
    }
  });

  it("counts processings beyond a byte exactly, and skips items without an identity", () => {
    const history: HistoryEvent[] = [started(), ...send(0, 0)];
    for (let i = 0; i < 300; i++) history.push(processed("0.0", 0, 0, "ok", i));
    const bad = processed("0.0", 0, 0, "ok");
    bad.items = [[-1, -1]];
    history.push(bad);
    const committed = records(run(0, 0, 0));
    const result = reconcile(history, records(run(0, 0, 0)), { committed });
    const { consumed, written } = byName(result);
    expect(consumed.duplicated).toBe(299);
    expect(written.duplicated).toBe(0);
    expect(written.out).toBe(1);
    expect(result.processor?.processed).toBe(301);
  });

  it("leaves a producer-only run as it was: two hops on the input topic, no processor", () => {
    const producerOnly = { ...(started() as Extract<HistoryEvent, { type: "run" }>) };
    producerOnly.topics = { input: "in" };
    const history = [producerOnly, ...send(0, 9), processed("0.0", 0, 9, "ok", 0)];
    const result = reconcile(history, records(run(0, 0, 8)), { committed: [] });
    expect(result.hops.map((h) => h.name)).toEqual(["producer-broker", "end-to-end"]);
    for (const h of result.hops) {
      expect(counts(h)).toEqual({ ...ZERO, in: 10, out: 9, lost: 1, lostAcked: 1 });
    }
    expect(result.processor).toBeNull();
  });

  it("rejects a bad output range", () => {
    const e = processed("0.0", 0, 0, "aborted");
    e.output = { x: [0, 1] };
    expect(() => new Reconciler().addEvent(e)).toThrow(/bad output range/);
  });
});
