import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type {
  DrainedRecord,
  HistoryEvent,
  HopName,
  ProcessedEvent,
  RunStarted,
  TailSeen,
} from "../history/events.js";
import { model, type Feed, type ModelResult } from "./model.test-support.js";
import { EXAMPLE_LIMIT, EXAMPLE_NAMES, Reconciler } from "./reconcile.js";

/**
 * Property tests: the reconciler against a naive reference model (model.test-support.ts).
 * A scenario is a random run: producers sending batches with random outcomes, the truth of
 * what the input topic stored (losses, duplicates, reorders, foreign records), what a
 * processor did with each chunk of it (re-processings, skips, aborts, lost history lines)
 * and what its output topic or sink holds (losses, duplicates, reorders, aborted records
 * read read_committed). Everything is then fed to the reconciler in a random interleaving.
 * Some runs also have a tail (what a reader following the input topic saw before part of it
 * was truncated, plus records it saw at offsets that now hold others): broker-storage.
 */

type Kind = "producer" | "topic" | "sink";
type SendOutcome = "ok" | "fail" | "unknown" | "missing";
type Id = [number, number];

/** Sparse and above 9 on purpose: ids must be ordered as numbers, not as strings. */
const PRODUCERS = [0, 2, 10];
const ERRORS = [undefined, "Request timed out", "Broker not available"];
/** Seqs of the second producer start here when `farSeqs`: they cross a 64 Ki page. */
const FAR = 65_533;

const copiesArb = fc.oneof(
  { arbitrary: fc.constant(1), weight: 6 },
  { arbitrary: fc.constant(0), weight: 2 },
  { arbitrary: fc.integer({ min: 2, max: 3 }), weight: 2 },
);

const batchArb = fc.record({
  size: fc.integer({ min: 1, max: 4 }),
  partition: fc.nat(2),
  outcome: fc.constantFrom<SendOutcome>("ok", "ok", "fail", "unknown", "missing"),
  error: fc.nat(ERRORS.length - 1),
  /** ok only: seq ranges relative to the batch's first seq that no broker acknowledged */
  unconfirmed: fc.oneof(
    { arbitrary: fc.constant<[number, number][]>([]), weight: 3 },
    {
      arbitrary: fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 1, maxLength: 2 }),
      weight: 1,
    },
  ),
  /** the batch invoked and completed a second time (a resend) */
  again: fc.option(fc.constantFrom<SendOutcome>("ok", "fail", "unknown", "missing"), {
    freq: 5,
  }),
  /** copies stored in the input topic, per message of the batch */
  copies: fc.array(copiesArb, { minLength: 4, maxLength: 4 }),
});

const ACTIONS = [
  "ok",
  "twice",
  "twiceOnce",
  "noHistory",
  "skip",
  "abortRetry",
  "abort",
  "unknownWritten",
  "unknownLost",
  "okLost",
] as const;
type Action = (typeof ACTIONS)[number];

const actionArb = fc.oneof(
  { arbitrary: fc.constant<Action>("ok"), weight: 8 },
  { arbitrary: fc.constantFrom<Action>(...ACTIONS), weight: 4 },
);

type RecordFault = "keep" | "lose" | "dup" | "leak";
const faultArb = fc.oneof(
  { arbitrary: fc.constant<RecordFault>("keep"), weight: 8 },
  { arbitrary: fc.constantFrom<RecordFault>("lose", "dup", "leak"), weight: 2 },
);

/** A transactional processor that aborts often, and whose aborted records leak. */
const ABORTING: Action[] = ["ok", "abortRetry", "abortRetry", "abort", "unknownWritten"];
const leakArb = fc.oneof(
  { arbitrary: fc.constant<RecordFault>("keep"), weight: 3 },
  { arbitrary: fc.constantFrom<RecordFault>("leak", "leak", "lose", "dup"), weight: 1 },
);

function processorArb(aborting: boolean) {
  return fc.record({
    chunkSizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
    /** what happened to each chunk, cycled */
    actions: fc.array(aborting ? fc.constantFrom(...ABORTING) : actionArb, {
      minLength: 1,
      maxLength: 10,
    }),
    /** per output record written, in writing order; keep past the end */
    faults: fc.array(aborting ? leakArb : faultArb, { maxLength: 40 }),
    /** per chunk: its output lands after the next chunk's (reorder) */
    delays: fc.array(fc.boolean(), { maxLength: 12 }),
    transactional: aborting ? fc.constant(true) : fc.boolean(),
    uncommittedDrain: aborting ? fc.constant(true) : fc.boolean(),
  });
}

function scenarioArb(kind: Kind, aborting = false) {
  return fc.record({
    kind: fc.constant(kind),
    partitions: fc.integer({ min: 1, max: 3 }),
    acks: fc.constantFrom(-1, 1, 0),
    hasRun: fc.oneof(
      { arbitrary: fc.constant(true), weight: 9 },
      { arbitrary: fc.constant(false), weight: 1 },
    ),
    end: fc.option(fc.constantFrom<RunEndReason>("completed", "interrupted", "error")),
    producers: fc.array(fc.array(batchArb, { maxLength: 5 }), { minLength: 1, maxLength: 3 }),
    farSeqs: fc.oneof(
      { arbitrary: fc.constant(false), weight: 4 },
      { arbitrary: fc.constant(true), weight: 1 },
    ),
    /** which producer sends its next batch, in turn */
    sendOrder: fc.array(fc.nat(), { maxLength: 16 }),
    /** adjacent swaps in the input topic */
    swaps: fc.array(fc.nat(), { maxLength: 4 }),
    /** input records the processor read that the final drain no longer finds (truncated) */
    truncated: fc.array(fc.nat(), { maxLength: 3 }),
    /** records of messages never invoked (producer 5) or without an identity (producer -1) */
    foreign: fc.array(
      fc.record({
        producer: fc.constantFrom(0, 2, 10, 5, -1),
        seq: fc.nat(20),
        partition: fc.nat(2),
        at: fc.nat(),
      }),
      { maxLength: 3 },
    ),
    processor: processorArb(aborting),
    /** a reader followed the input topic: it saw every `every`-th record, plus ghosts */
    tail: fc.option(
      fc.record({
        every: fc.integer({ min: 1, max: 3 }),
        /** records seen at an offset that now holds another record, or nothing */
        ghosts: fc.array(
          fc.record({
            partition: fc.nat(2),
            at: fc.nat(),
            producer: fc.constantFrom(0, 2, 10, 5, -1),
            seq: fc.nat(20),
          }),
          { maxLength: 3 },
        ),
        /** lines per partition */
        lines: fc.integer({ min: 1, max: 3 }),
      }),
      { freq: 2 },
    ),
    /** the interleaving of history events and drained records */
    seed: fc.integer(),
  });
}

type RunEndReason = "completed" | "interrupted" | "error";
type Scenario = ReturnType<typeof scenarioArb> extends fc.Arbitrary<infer S> ? S : never;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Segment {
  items: Id[];
  aborted: boolean;
  /** the processed event whose output range this segment is */
  event?: ProcessedEvent;
}

interface Built {
  history: HistoryEvent[];
  input: DrainedRecord[][];
  committed: DrainedRecord[][];
  uncommitted: DrainedRecord[][];
  sink: DrainedRecord[][];
  tail: TailSeen[] | null;
}

/** Turns a scenario into its history and the per-partition drains, in offset order. */
function build(s: Scenario): Built {
  let time = 0;
  const history: HistoryEvent[] = [];
  const n = s.partitions;
  if (s.hasRun) {
    const run: RunStarted = {
      type: "run",
      runId: "r1",
      profile: "property",
      seed: 1,
      startedAt: "2024-01-01T00:00:00.000Z",
      topics: s.kind === "topic" ? { input: "in", output: "out" } : { input: "in" },
      acks: s.acks,
      ...(s.kind === "sink" ? { sink: { type: "sqlite", mode: "plain", table: "t" } } : {}),
    };
    history.push(run);
  }

  // The producers' batches, seqs consecutive per producer, sent in a random interleaving.
  const queues = s.producers.map((batches, i) => {
    let seq = s.farSeqs && i === 1 ? FAR : 0;
    return batches.map((b) => {
      const from = seq;
      seq += b.size;
      return { ...b, producer: PRODUCERS[i]!, from, to: seq - 1, partition: b.partition % n };
    });
  });
  const logs: Id[][] = Array.from({ length: n }, () => []);
  for (let turn = 0; queues.some((q) => q.length > 0); turn++) {
    const open = queues.filter((q) => q.length > 0);
    const b = open[(s.sendOrder[turn] ?? 0) % open.length]!.shift()!;
    const complete = (outcome: SendOutcome, unconfirmed: [number, number][]) => {
      history.push({ type: "invoke", producer: b.producer, from: b.from, to: b.to, time: time++ });
      if (outcome === "missing") return;
      const e: HistoryEvent = { type: outcome, producer: b.producer, from: b.from, to: b.to, time };
      time++;
      if (outcome !== "ok" && ERRORS[b.error] !== undefined) e.error = ERRORS[b.error];
      if (outcome === "ok" && unconfirmed.length > 0) {
        e.unconfirmed = {
          partitions: [b.partition],
          seqs: unconfirmed.map(([x, y]) => [b.from + Math.min(x, y), b.from + Math.max(x, y)]),
        };
      }
      history.push(e);
    };
    complete(b.outcome, b.unconfirmed);
    if (b.again !== null) complete(b.again, []);
    // what the input topic stored: each pass is one (re)send of the batch's surviving copies
    for (let pass = 1; pass <= 3; pass++) {
      for (let seq = b.from; seq <= b.to; seq++) {
        if (b.copies[seq - b.from]! >= pass) logs[b.partition]!.push([b.producer, seq]);
      }
    }
  }
  for (const f of s.foreign) {
    const log = logs[f.partition % n]!;
    log.splice(f.at % (log.length + 1), 0, [f.producer, f.seq]);
  }
  for (const swap of s.swaps) {
    const log = logs[swap % n]!;
    if (log.length < 2) continue;
    const i = Math.floor(swap / n) % (log.length - 1);
    [log[i], log[i + 1]] = [log[i + 1]!, log[i]!];
  }
  const input = logs.map((log, partition) => {
    let offset = 0;
    return log.map(([producer, seq], i) => {
      offset += i % 5 === 4 ? 2 : 1; // a gap now and then, as transaction markers leave
      return { partition, offset, producer, seq };
    });
  });

  // The processor: each partition in chunks, each chunk with its fate.
  const p = s.processor;
  let chunkNo = 0;
  const segments: Segment[][] = input.map((records, partition) => {
    const out: Segment[] = [];
    for (let i = 0; i < records.length;) {
      const size = p.chunkSizes[chunkNo % p.chunkSizes.length]!;
      const action = p.actions[chunkNo % p.actions.length]!;
      chunkNo++;
      const chunk = records.slice(i, i + size);
      i += size;
      const items: Id[] = chunk.map((r) => [r.producer, r.seq]);
      const event = (outcome: ProcessedEvent["outcome"]): ProcessedEvent => {
        const e: ProcessedEvent = {
          type: "processed",
          worker: `${partition}.0`,
          partition,
          fromOffset: chunk[0]!.offset,
          toOffset: chunk[chunk.length - 1]!.offset,
          items: items.map(([a, b]): Id => [a, b]),
          outcome,
          time: time++,
        };
        history.push(e);
        return e;
      };
      const write = (e?: ProcessedEvent) => out.push({ items, aborted: false, event: e });
      const abort = () => out.push({ items, aborted: true, event: event("aborted") });
      switch (action) {
        case "ok":
          write(event("ok"));
          break;
        case "twice": // crash after the write, before the commit: processed again
          write(event("ok"));
          write(event("ok"));
          break;
        case "twiceOnce": // the same, the second write deduplicated
          event("ok");
          write(event("ok"));
          break;
        case "noHistory": // crash between the write and the history flush
          write();
          break;
        case "skip": // committed, then crashed before processing
          break;
        case "abortRetry":
          abort();
          write(event("ok"));
          break;
        case "abort":
          abort();
          break;
        case "unknownWritten":
          write(event("unknown"));
          break;
        case "unknownLost":
          event("unknown");
          break;
        case "okLost": // acked, yet never stored
          event("ok");
          break;
      }
    }
    return out;
  });
  let delayNo = 0;
  for (const list of segments) {
    for (let k = 0; k + 1 < list.length; k++) {
      if (p.delays[delayNo++]) [list[k], list[k + 1]] = [list[k + 1]!, list[k]!];
    }
  }

  // Where the writes landed: the output topic (same partition number) or the sink's rows.
  let faultNo = 0;
  const fault = () => p.faults[faultNo++] ?? "keep";
  const committed: DrainedRecord[][] = [];
  const uncommitted: DrainedRecord[][] = [];
  const sink: DrainedRecord[][] = [];
  let rowId = 0;
  segments.forEach((list, partition) => {
    const readCommitted: DrainedRecord[] = [];
    const readUncommitted: DrainedRecord[] = [];
    const rows: DrainedRecord[] = [];
    let offset = 0;
    for (const seg of list) {
      const base = offset;
      if (s.kind === "sink") {
        if (seg.aborted) continue; // the DB transaction rolled back: no rows
        for (const [producer, seq] of seg.items) {
          const f = fault();
          if (f === "lose") continue;
          for (let c = f === "dup" ? 2 : 1; c > 0; c--) {
            rows.push({ partition, offset: ++rowId, producer, seq });
          }
        }
        continue;
      }
      for (const [producer, seq] of seg.items) {
        const f = fault();
        if (seg.aborted) {
          // every aborted record keeps its offset in the range; "leak": read read_committed
          const r = { partition, offset: offset++, producer, seq };
          if (f === "lose") continue;
          readUncommitted.push(r);
          if (f === "leak") readCommitted.push(r);
          continue;
        }
        if (f === "lose") continue;
        for (let c = f === "dup" ? 2 : 1; c > 0; c--) {
          const r = { partition, offset: offset++, producer, seq };
          readUncommitted.push(r);
          readCommitted.push(r);
        }
      }
      if (seg.aborted) seg.event!.output = { [partition]: [base, seg.items.length] };
      else if (seg.event && offset > base)
        seg.event.output = { [partition]: [base, offset - base] };
      if (p.transactional) offset++; // the commit or abort marker
    }
    committed.push(readCommitted);
    uncommitted.push(readUncommitted);
    sink.push(rows);
  });

  if (s.end !== null) history.push({ type: "end", time: time++, reason: s.end });
  const total = input.reduce((sum, list) => sum + list.length, 0);
  const gone = new Set(s.truncated.map((i) => i % Math.max(total, 1)));
  let position = 0;
  const drained = input.map((list) => list.filter(() => !gone.has(position++)));
  return { history, input: drained, committed, uncommitted, sink, tail: tailOf(s, input) };
}

/** What the tail reader saw of the input topic before the truncation, in lines. */
function tailOf(s: Scenario, input: DrainedRecord[][]): TailSeen[] | null {
  if (s.tail === null) return null;
  const { every, ghosts, lines } = s.tail;
  const seen = input.map((list) =>
    list
      .filter((_, i) => i % every === 0)
      .map((r, i): [number, number, number, number] => [r.offset, r.producer, r.seq, 10 + i * 0.5]),
  );
  for (const g of ghosts) {
    const list = seen[g.partition % seen.length]!;
    const last = input[g.partition % input.length]!.at(-1)?.offset ?? 0;
    list.push([g.at % (last + 3), g.producer, g.seq, 7.5]);
  }
  const out: TailSeen[] = [];
  seen.forEach((list, partition) => {
    const size = Math.max(1, Math.ceil(list.length / lines));
    for (let i = 0; i < list.length; i += size) {
      const part = list.slice(i, i + size);
      out.push({
        type: "seen",
        time: Math.max(...part.map((x) => x[3])),
        partition,
        records: part.map(([o, p, q]): [number, number, number] => [o, p, q]),
      });
    }
  });
  // a tail that saw nothing still says the run had one
  if (out.length === 0) out.push({ type: "seen", time: 0, partition: 0, records: [] });
  return out;
}

/** The scenario's events and records in one random interleaving the reconciler accepts. */
function feedOf(s: Scenario, built: Built): Feed[] {
  const random = mulberry32(s.seed);
  const history = [...built.history];
  for (let i = history.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [history[i], history[j]] = [history[j]!, history[i]!];
  }
  const streams: Feed[][] = [history.map((event): Feed => ({ kind: "event", event }))];
  const drains = (kind: Exclude<Feed["kind"], "event" | "tail">, lists: DrainedRecord[][]) => {
    for (const list of lists) streams.push(list.map((record): Feed => ({ kind, record })));
  };
  drains("input", built.input);
  if (s.kind === "topic") {
    drains("committed", built.committed);
    if (s.processor.uncommittedDrain) drains("uncommitted", built.uncommitted);
  }
  if (s.kind === "sink") drains("sink", built.sink);
  // every tail line comes before the input drain's records
  const feed: Feed[] = (built.tail ?? []).map((line): Feed => ({ kind: "tail", line }));
  for (let open = streams.filter((x) => x.length > 0); open.length > 0;) {
    const stream = open[Math.floor(random() * open.length)]!;
    feed.push(stream.shift()!);
    open = open.filter((x) => x.length > 0);
  }
  return feed;
}

/**
 * A message read on two partitions of one drain: which copy is its first, and so whether it
 * counts as reordered, depends on how the partitions interleave.
 */
function readOnTwoPartitions(feed: Feed[]): boolean {
  const partitionOf = new Map<string, number>();
  for (const f of feed) {
    if (f.kind === "event" || f.kind === "tail") continue;
    const id = `${f.kind} ${f.record.producer}:${f.record.seq}`;
    const seen = partitionOf.get(id);
    if (seen !== undefined && seen !== f.record.partition) return true;
    partitionOf.set(id, f.record.partition);
  }
  return false;
}

function reconcileFeed(feed: Feed[]) {
  const reconciler = new Reconciler();
  for (const f of feed) {
    if (f.kind === "event") reconciler.addEvent(f.event);
    else if (f.kind === "tail") reconciler.addTail(f.line);
    else if (f.kind === "input") reconciler.addRecord(f.record);
    else if (f.kind === "sink") reconciler.addSinkRecord(f.record);
    else reconciler.addOutputRecord(f.record, f.kind);
  }
  return reconciler.result();
}

/** The reconciler's answer, cut to what the model computes. */
function actual(feed: Feed[]): ModelResult {
  const r = reconcileFeed(feed);
  return {
    run: r.run,
    messages: r.messages,
    hops: r.hops,
    processor: r.processor && {
      processed: r.processor.processed,
      aborted: r.processor.aborted,
      unknown: r.processor.unknown,
    },
    complete: r.complete,
    durationMs: r.durationMs,
    unconfirmed: r.unconfirmed,
    errors: r.errors,
  };
}

function check(s: Scenario): void {
  const feed = feedOf(s, build(s));
  expect(actual(feed)).toEqual(model(feed));
}

const RUNS = 400;

const COUNTS = [
  "lost",
  "lostAcked",
  "lostUnacked",
  "duplicated",
  "reordered",
  "abortedReads",
  "abortedVisible",
  "unexpected",
] as const;

/** The counts that can be non-zero at each hop (the others are always 0). */
const REACHABLE: Record<HopName, (typeof COUNTS)[number][]> = {
  "producer-broker": ["lost", "lostAcked", "lostUnacked", "duplicated", "reordered", "unexpected"],
  "broker-storage": ["lost", "lostAcked"],
  "broker-consumer": ["lost", "lostAcked", "lostUnacked", "duplicated"],
  "processor-output": [...COUNTS.filter((c) => c !== "lostUnacked")],
  "consumer-sink": ["lost", "lostAcked", "duplicated", "reordered", "unexpected"],
  "end-to-end": [...COUNTS],
};

describe("reconciler against the reference model", () => {
  test.prop([scenarioArb("producer")], { numRuns: RUNS })(
    "producer-only runs: two hops on the input topic",
    (s) => check(s),
  );

  test.prop([scenarioArb("topic")], { numRuns: RUNS })("processor-to-topic runs: four hops", (s) =>
    check(s),
  );

  test.prop([scenarioArb("topic", true)], { numRuns: RUNS })(
    "transactional processor-to-topic runs: aborted chunks, aborted reads",
    (s) => check(s),
  );

  test.prop([scenarioArb("sink")], { numRuns: RUNS })(
    "processor-to-sink runs: four hops, sink rows",
    (s) => check(s),
  );

  const anyScenario = fc
    .constantFrom<Kind>("producer", "topic", "sink")
    .chain((k) => scenarioArb(k));

  test.prop([anyScenario, fc.integer()], { numRuns: 250 })(
    "the answer does not depend on the order of history events",
    (s, seed) => {
      const built = build(s);
      const records = feedOf(s, built).filter((f) => f.kind !== "event");
      const first = feedOf(s, built).filter((f) => f.kind === "event");
      const again = feedOf({ ...s, seed }, built).filter((f) => f.kind === "event");
      expect(reconcileFeed([...again, ...records])).toEqual(reconcileFeed([...first, ...records]));
    },
  );

  test.prop([anyScenario, fc.integer()], { numRuns: 250 })(
    "nor on how partitions interleave, when no message is read on two partitions of a drain",
    (s, seed) => {
      const built = build(s);
      const first = feedOf(s, built);
      fc.pre(!readOnTwoPartitions(first));
      expect(reconcileFeed(feedOf({ ...s, seed }, built))).toEqual(reconcileFeed(first));
    },
  );

  it("the scenarios reach every count each hop can have, and full example lists", () => {
    const reached = new Set<string>();
    for (const kind of ["producer", "topic", "sink"] as const) {
      for (const s of fc.sample(scenarioArb(kind), { numRuns: 300, seed: 42 })) {
        for (const h of model(feedOf(s, build(s))).hops) {
          for (const count of COUNTS) if (h[count] > 0) reached.add(`${h.name} ${count}`);
          if ((h.lostAfterVisible ?? 0) > 0) reached.add(`${h.name} lostAfterVisible`);
          for (const name of EXAMPLE_NAMES) {
            if (h.examples[name].length === EXAMPLE_LIMIT) reached.add(`${h.name} ${name} full`);
          }
        }
      }
    }
    const expected = Object.entries(REACHABLE).flatMap(([hop, counts]) =>
      counts.map((count) => `${hop} ${count}`),
    );
    for (const full of ["lost", "lostAcked", "lostUnacked", "duplicated", "reordered"]) {
      expected.push(`end-to-end ${full} full`);
    }
    expected.push("broker-consumer duplicated full", "processor-output reordered full");
    expected.push("broker-storage lostAfterVisible");
    expect(expected.filter((x) => !reached.has(x))).toEqual([]);
  });
});
