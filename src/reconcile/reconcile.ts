import { messageId } from "../history/events.js";
import type {
  DrainedRecord,
  FaultEvent,
  HistoryEvent,
  HopName,
  Outcome,
  RunEnded,
  RunStarted,
} from "../history/events.js";

/**
 * History + drained records → per-hop counts and the message ids behind each anomaly.
 * Pure: no I/O. State is one byte per message per array, never one object per message.
 */

export const EXAMPLE_LIMIT = 10;

export const EXAMPLE_NAMES = [
  "lost",
  "lostAcked",
  "lostUnacked",
  "duplicated",
  "reordered",
  "unexpected",
] as const;
export type ExampleName = (typeof EXAMPLE_NAMES)[number];
export type Examples = Record<ExampleName, string[]>;

export interface HopCounts {
  name: HopName;
  /** messages that should reach this hop: every (producer, seq) invoked */
  in: number;
  /** invoked messages seen at least once */
  out: number;
  lost: number;
  lostAcked: number;
  lostUnacked: number;
  /** extra copies: a message seen 3 times adds 2 */
  duplicated: number;
  reordered: number;
  /** distinct (producer, seq) seen but never invoked: a bug or foreign data */
  unexpected: number;
  /** up to EXAMPLE_LIMIT ids each, smallest first (by producer, then seq) */
  examples: Examples;
}

export interface MessageTotals {
  attempted: number;
  acked: number;
  failed: number;
  unknown: number;
}

export interface FaultWindow {
  type: string;
  target: string;
  startMs: number;
  endMs: number | null;
}

export interface Reconciliation {
  run: RunStarted | null;
  messages: MessageTotals;
  faults: FaultWindow[];
  hops: HopCounts[];
  /** an `end` event was seen */
  complete: boolean;
  endReason: RunEnded["reason"] | null;
  /** latest event time seen, null if none had a time */
  durationMs: number | null;
}

// Outcome codes, ordered so that the strongest claim wins when a seq has several
// completions: once acked it stays acked; unknown beats fail (it may have happened).
const NONE = 0;
const PENDING = 1;
const FAIL = 2;
const UNKNOWN = 3;
const OK = 4;
const OUTCOME_CODE: Record<Outcome, number> = { fail: FAIL, unknown: UNKNOWN, ok: OK };

// Seen byte: low 7 bits count copies (127 = "see overflow map"), top bit = reordered.
const COUNT_MASK = 0x7f;
const COUNT_OVERFLOW = 0x7f;
const REORDERED = 0x80;

// Paged rather than one array grown by doubling: growth never copies, and a stray huge
// seq from foreign data costs one page instead of an array that large.
const PAGE_SIZE = 1 << 16;
const EMPTY_PAGE = new Uint8Array(PAGE_SIZE);

/** A sparse byte array over non-negative integers, allocated in 64 KiB pages. */
class PagedBytes {
  private readonly pages = new Map<number, Uint8Array>();

  page(index: number): Uint8Array | undefined {
    return this.pages.get(index);
  }

  pageFor(index: number): Uint8Array {
    let page = this.pages.get(index);
    if (!page) {
      page = new Uint8Array(PAGE_SIZE);
      this.pages.set(index, page);
    }
    return page;
  }

  pageIndexes(): number[] {
    return [...this.pages.keys()];
  }

  /** Sets every byte in [from, to] to at least `value`. */
  raise(from: number, to: number, value: number): void {
    for (let seq = from; seq <= to;) {
      const index = Math.floor(seq / PAGE_SIZE);
      const page = this.pageFor(index);
      const base = index * PAGE_SIZE;
      const last = Math.min(to, base + PAGE_SIZE - 1);
      for (let j = seq - base; j <= last - base; j++) {
        if (page[j]! < value) page[j] = value;
      }
      seq = last + 1;
    }
  }
}

/** What the history says about each message: its strongest outcome code, per producer. */
class OutcomeLog {
  private readonly producers = new Map<number, PagedBytes>();

  mark(producer: number, from: number, to: number, code: number): void {
    checkRange(producer, from, to);
    let bytes = this.producers.get(producer);
    if (!bytes) {
      bytes = new PagedBytes();
      this.producers.set(producer, bytes);
    }
    bytes.raise(from, to, code);
  }

  of(producer: number): PagedBytes | undefined {
    return this.producers.get(producer);
  }

  producerIds(): number[] {
    return [...this.producers.keys()];
  }
}

interface ProducerSeen {
  counts: PagedBytes;
  overflow: Map<number, number>;
}

interface PartitionState {
  lastOffset: number;
  maxSeq: Map<number, number>;
}

/**
 * The records read at one hop. Records must arrive per partition in increasing offset
 * order (partitions may interleave). Feed a second tally with another topic's records to
 * compute another hop.
 */
class RecordTally {
  private readonly producers = new Map<number, ProducerSeen>();
  private readonly partitions = new Map<number, PartitionState>();
  private readonly strays = new Set<string>();

  add(r: DrainedRecord): void {
    const partition = this.partitionAt(r.partition, r.offset);
    if (!isIndex(r.producer) || !isIndex(r.seq)) {
      this.strays.add(messageId(r.producer, r.seq));
      return;
    }
    const behind = advance(partition, r.producer, r.seq);
    const seen = this.seenOf(r.producer);
    const index = Math.floor(r.seq / PAGE_SIZE);
    const page = seen.counts.pageFor(index);
    const j = r.seq - index * PAGE_SIZE;
    const mark = page[j]!;
    const count = mark & COUNT_MASK;
    // Only the first copy can be reordered; a later copy is a duplicate.
    const flag = count === 0 ? (behind ? REORDERED : 0) : mark & REORDERED;
    page[j] = flag | bump(seen.overflow, r.seq, count);
  }

  seen(producer: number): ProducerSeen | undefined {
    return this.producers.get(producer);
  }

  producerIds(): number[] {
    return [...this.producers.keys()];
  }

  /** Records whose producer or seq is not a non-negative integer; always unexpected. */
  strayIds(): string[] {
    return [...this.strays];
  }

  private partitionAt(partition: number, offset: number): PartitionState {
    let state = this.partitions.get(partition);
    if (!state) {
      state = { lastOffset: -Infinity, maxSeq: new Map() };
      this.partitions.set(partition, state);
    }
    if (!(offset > state.lastOffset)) {
      throw new Error(
        `records of partition ${partition} out of offset order: ${offset} after ${state.lastOffset}`,
      );
    }
    state.lastOffset = offset;
    return state;
  }

  private seenOf(producer: number): ProducerSeen {
    let seen = this.producers.get(producer);
    if (!seen) {
      seen = { counts: new PagedBytes(), overflow: new Map() };
      this.producers.set(producer, seen);
    }
    return seen;
  }
}

/** Records the seq as seen in its partition; true if a higher seq was seen there before. */
function advance(partition: PartitionState, producer: number, seq: number): boolean {
  const max = partition.maxSeq.get(producer) ?? -1;
  if (seq > max) partition.maxSeq.set(producer, seq);
  return seq < max;
}

/** The count field after one more copy; counts past the field's range go to `overflow`. */
function bump(overflow: Map<number, number>, seq: number, count: number): number {
  if (count < COUNT_OVERFLOW - 1) return count + 1;
  overflow.set(seq, count === COUNT_OVERFLOW ? overflow.get(seq)! + 1 : COUNT_OVERFLOW);
  return COUNT_OVERFLOW;
}

function copiesOf(mark: number, seq: number, seen: ProducerSeen | undefined): number {
  const count = mark & COUNT_MASK;
  return count === COUNT_OVERFLOW ? seen!.overflow.get(seq)! : count;
}

/** Streams history events and drained records in any order; `result()` at the end. */
export class Reconciler {
  private readonly outcomes = new OutcomeLog();
  private readonly input = new RecordTally();
  private readonly faults: FaultWindow[] = [];
  private run: RunStarted | null = null;
  private end: RunEnded | null = null;
  private lastTime: number | null = null;

  addEvent(e: HistoryEvent): void {
    switch (e.type) {
      case "run":
        this.run = e;
        return;
      case "invoke":
        this.outcomes.mark(e.producer, e.from, e.to, PENDING);
        break;
      case "ok":
      case "fail":
      case "unknown":
        this.outcomes.mark(e.producer, e.from, e.to, OUTCOME_CODE[e.type]);
        break;
      case "fault":
        this.addFault(e);
        break;
      case "end":
        this.end = e;
        break;
    }
    this.lastTime = Math.max(this.lastTime ?? e.time, e.time);
  }

  /** A record of the run's input topic. */
  addRecord(r: DrainedRecord): void {
    this.input.add(r);
  }

  result(): Reconciliation {
    const acksZero = this.run?.acks === 0;
    const input = countHop("producer-broker", this.outcomes, this.input, acksZero);
    // Until the pipeline's last topic is drained, end to end is judged on the input topic.
    const endToEnd = { ...input, name: "end-to-end" as const, examples: copyExamples(input) };
    return {
      run: this.run,
      messages: countMessages(this.outcomes, acksZero),
      faults: this.faults.map((f) => ({ ...f })),
      hops: [input, endToEnd],
      complete: this.end !== null,
      endReason: this.end?.reason ?? null,
      durationMs: this.lastTime,
    };
  }

  private addFault(e: FaultEvent): void {
    if (e.phase === "start") {
      this.faults.push({ type: e.fault, target: e.target, startMs: e.time, endMs: null });
      return;
    }
    const open = this.faults.find(
      (f) => f.endMs === null && f.type === e.fault && f.target === e.target,
    );
    // A stop with no start (history cut at the front) has no window to close.
    if (open) open.endMs = e.time;
  }
}

export function reconcile(
  history: Iterable<HistoryEvent>,
  records: Iterable<DrainedRecord>,
): Reconciliation {
  const reconciler = new Reconciler();
  for (const e of history) reconciler.addEvent(e);
  for (const r of records) reconciler.addRecord(r);
  return reconciler.result();
}

/** Counts one hop: what the history says was sent against what `tally` saw. */
function countHop(
  name: HopName,
  outcomes: OutcomeLog,
  tally: RecordTally,
  acksZero: boolean,
): HopCounts {
  const hop = emptyHop(name);
  const acked = acksZero ? -1 : OK;
  for (const producer of sortedUnion(outcomes.producerIds(), tally.producerIds())) {
    countProducer(hop, producer, outcomes.of(producer), tally.seen(producer), acked);
  }
  for (const id of tally.strayIds()) {
    hop.unexpected++;
    addExample(hop.examples.unexpected, id);
  }
  hop.out = hop.in - hop.lost;
  return hop;
}

function countProducer(
  hop: HopCounts,
  producer: number,
  sent: PagedBytes | undefined,
  seen: ProducerSeen | undefined,
  acked: number,
): void {
  const indexes = sortedUnion(sent?.pageIndexes() ?? [], seen?.counts.pageIndexes() ?? []);
  for (const index of indexes) {
    const sentPage = sent?.page(index) ?? EMPTY_PAGE;
    const seenPage = seen?.counts.page(index) ?? EMPTY_PAGE;
    const base = index * PAGE_SIZE;
    for (let j = 0; j < PAGE_SIZE; j++) {
      const outcome = sentPage[j]!;
      const mark = seenPage[j]!;
      if (outcome === NONE && mark === 0) continue;
      countMessage(hop, producer, base + j, outcome, mark, seen, acked);
    }
  }
}

function countMessage(
  hop: HopCounts,
  producer: number,
  seq: number,
  outcome: number,
  mark: number,
  seen: ProducerSeen | undefined,
  acked: number,
): void {
  const { examples } = hop;
  // Anomalies among never-invoked records are reported once, as unexpected.
  if (outcome === NONE) {
    hop.unexpected++;
    addExample(examples.unexpected, messageId(producer, seq));
    return;
  }
  hop.in++;
  const copies = copiesOf(mark, seq, seen);
  if (copies === 0) {
    hop.lost++;
    addExample(examples.lost, messageId(producer, seq));
    if (outcome === acked) {
      hop.lostAcked++;
      addExample(examples.lostAcked, messageId(producer, seq));
    } else {
      hop.lostUnacked++;
      addExample(examples.lostUnacked, messageId(producer, seq));
    }
    return;
  }
  if (copies > 1) {
    hop.duplicated += copies - 1;
    addExample(examples.duplicated, messageId(producer, seq));
  }
  if (mark & REORDERED) {
    hop.reordered++;
    addExample(examples.reordered, messageId(producer, seq));
  }
}

function countMessages(outcomes: OutcomeLog, acksZero: boolean): MessageTotals {
  const totals: MessageTotals = { attempted: 0, acked: 0, failed: 0, unknown: 0 };
  for (const producer of outcomes.producerIds()) {
    const sent = outcomes.of(producer)!;
    for (const index of sent.pageIndexes()) {
      for (const outcome of sent.page(index)!) {
        if (outcome !== NONE) addOutcome(totals, outcome, acksZero);
      }
    }
  }
  return totals;
}

function addOutcome(totals: MessageTotals, outcome: number, acksZero: boolean): void {
  totals.attempted++;
  if (outcome === OK && !acksZero) totals.acked++;
  else if (outcome === FAIL) totals.failed++;
  else totals.unknown++;
}

function emptyHop(name: HopName): HopCounts {
  return {
    name,
    in: 0,
    out: 0,
    lost: 0,
    lostAcked: 0,
    lostUnacked: 0,
    duplicated: 0,
    reordered: 0,
    unexpected: 0,
    examples: emptyExamples(),
  };
}

function emptyExamples(): Examples {
  return {
    lost: [],
    lostAcked: [],
    lostUnacked: [],
    duplicated: [],
    reordered: [],
    unexpected: [],
  };
}

function copyExamples(hop: HopCounts): Examples {
  const copy = emptyExamples();
  for (const name of EXAMPLE_NAMES) copy[name] = [...hop.examples[name]];
  return copy;
}

function addExample(ids: string[], id: string): void {
  if (ids.length < EXAMPLE_LIMIT) ids.push(id);
}

function sortedUnion(a: number[], b: number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function checkRange(producer: number, from: number, to: number): void {
  if (!isIndex(producer) || !isIndex(from) || !isIndex(to) || from > to) {
    throw new RangeError(`bad send range in history: producer ${producer}, [${from}, ${to}]`);
  }
}
