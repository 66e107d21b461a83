import { messageId } from "../history/events.js";
import type {
  DrainedRecord,
  FaultEvent,
  HistoryEvent,
  HopName,
  Outcome,
  ProcessedEvent,
  RunEnded,
  RunStarted,
  SendCompleted,
  WorkerEvent,
} from "../history/events.js";

/**
 * History + drained records → per-hop counts and the message ids behind each anomaly.
 * Pure: no I/O. State is one byte per message per array, never one object per message.
 *
 * A producer-only run (RunStarted without `topics.output`) has two hops: producer-broker
 * and end-to-end, both judged on the input topic. A run with a processor stage has four
 * (HOPS order): producer-broker, broker-consumer, processor-output and end-to-end, the
 * last two judged on the output topic (read_committed drain):
 *  - broker-consumer: a stored input message counts as processed when a ProcessedEvent says
 *    ok or when it was read in the output (a worker killed between its output write and its
 *    history flush is no loss); duplicated = ok processings beyond the copies stored in the
 *    input topic (a producer retry's second copy is producer-broker's duplicate, not this one's);
 *  - processor-output: ok processings whose output was not read are lost (all acked);
 *    duplicated = output copies beyond max(ok processings, 1). A re-processing whose history
 *    line was lost in a crash therefore shows here, not at broker-consumer;
 *  - abortedReads: output records read read_committed inside the output range of an aborted
 *    chunk; abortedVisible: the same on the read_uncommitted drain.
 * A run whose processor writes to an external sink (RunStarted `sink`) has consumer-sink in
 * place of processor-output, and its sink rows (addSinkRecord) in place of the output topic:
 *  - consumer-sink: messages processed ok or found in the sink; lost = processed ok (the DB
 *    committed) but no row; duplicated = rows beyond the copies stored in the input topic (a
 *    producer retry explains a second row, a re-processing does not);
 *  - end-to-end: producer history vs the sink's rows.
 * Memory: a byte per message for each of outcome, input copies, ok processings and output
 * copies, plus a bit per output offset for each output drain.
 */

export const EXAMPLE_LIMIT = 10;

export const EXAMPLE_NAMES = [
  "lost",
  "lostAcked",
  "lostUnacked",
  "duplicated",
  "reordered",
  "abortedReads",
  "unexpected",
] as const;
export type ExampleName = (typeof EXAMPLE_NAMES)[number];
export type Examples = Record<ExampleName, string[]>;

export interface HopCounts {
  name: HopName;
  /**
   * messages that should reach this hop: producer-broker and end-to-end, every (producer, seq)
   * invoked; broker-consumer, the invoked messages stored in the input topic;
   * processor-output, the invoked messages processed with outcome ok at least once
   */
  in: number;
  /** of those, the messages that reached the hop: in − lost */
  out: number;
  lost: number;
  lostAcked: number;
  lostUnacked: number;
  /** extra copies: a message seen 3 times adds 2 */
  duplicated: number;
  reordered: number;
  /**
   * output records read read_committed although they lie in the output range of an aborted
   * transaction (processor-output, end-to-end; always a violation); 0 at the other hops
   */
  abortedReads: number;
  /**
   * the same count on the read_uncommitted output drain: evidence that aborts happened and
   * that read_uncommitted readers see them. Informational, never a violation.
   */
  abortedVisible: number;
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

/**
 * Messages the client reported as sent although the broker's response acknowledged no offset
 * for their partition: counted as unknown, so the cluster is never blamed for the client.
 */
export interface UnconfirmedSummary {
  messages: number;
  partitions: number[];
}

/** Failed and unknown sends grouped by the error the client reported. */
export interface ErrorGroup {
  outcome: "fail" | "unknown";
  error: string;
  /** send calls (batches) that ended with it */
  sends: number;
  messages: number;
}

export interface FaultWindow {
  type: string;
  target: string;
  startMs: number;
  endMs: number | null;
}

export interface WorkerCrash {
  worker: string;
  /** where the worker was killed, e.g. "after-process-before-commit"; null if not recorded */
  point: string | null;
  time: number;
}

/** What the processor workers reported, summed over every worker history. */
export interface ProcessorSummary {
  /** input records in chunks whose outcome was ok (re-processings count again) */
  processed: number;
  /** input records in chunks whose transaction was aborted */
  aborted: number;
  /** input records in chunks whose output write had an unknown outcome */
  unknown: number;
  /** workers started ("<slot>.<incarnation>"), by start time */
  workers: string[];
  crashes: WorkerCrash[];
}

export interface Reconciliation {
  run: RunStarted | null;
  messages: MessageTotals;
  faults: FaultWindow[];
  hops: HopCounts[];
  /** null for a producer-only run (no output topic) */
  processor: ProcessorSummary | null;
  /** an `end` event was seen */
  complete: boolean;
  endReason: RunEnded["reason"] | null;
  /** latest event time seen, null if none had a time */
  durationMs: number | null;
  unconfirmed: UnconfirmedSummary;
  /** most messages first */
  errors: ErrorGroup[];
}

/** Which output drain a record comes from. */
export type OutputIsolation = "committed" | "uncommitted";

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
// Processing byte: the whole byte counts ok processings (255 = "see overflow map").
const PROCESSED_OVERFLOW = 0xff;

// Paged rather than one array grown by doubling: growth never copies, and a stray huge
// seq from foreign data costs one page instead of an array that large.
const PAGE_SIZE = 1 << 16;
const PAGE_BITS = PAGE_SIZE * 8;
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

/** A sparse set of non-negative integers (offsets), one bit each, in 64 KiB pages. */
class PagedBits {
  private readonly bytes = new PagedBytes();

  has(n: number): boolean {
    const index = Math.floor(n / PAGE_BITS);
    const page = this.bytes.page(index);
    if (!page) return false;
    const bit = n - index * PAGE_BITS;
    return (page[bit >>> 3]! & (1 << (bit & 7))) !== 0;
  }

  /** Adds n; false if it was there already. */
  add(n: number): boolean {
    const index = Math.floor(n / PAGE_BITS);
    const page = this.bytes.pageFor(index);
    const bit = n - index * PAGE_BITS;
    const mask = 1 << (bit & 7);
    const byte = page[bit >>> 3]!;
    if (byte & mask) return false;
    page[bit >>> 3] = byte | mask;
    return true;
  }
}

/** (partition, offset) pairs of one topic. */
class OffsetSet {
  private readonly partitions = new Map<number, PagedBits>();

  has(partition: number, offset: number): boolean {
    return this.partitions.get(partition)?.has(offset) ?? false;
  }

  add(partition: number, offset: number): boolean {
    let bits = this.partitions.get(partition);
    if (!bits) {
      bits = new PagedBits();
      this.partitions.set(partition, bits);
    }
    return bits.add(offset);
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

/** Per-seq counters of one producer: a byte each, exact counts past the byte in `overflow`. */
interface ProducerSeen {
  counts: PagedBytes;
  overflow: Map<number, number>;
}

function newSeen(): ProducerSeen {
  return { counts: new PagedBytes(), overflow: new Map() };
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
  private readonly strays = new Map<string, [number, number]>();

  add(r: DrainedRecord): void {
    const partition = this.partitionAt(r.partition, r.offset);
    if (!isIndex(r.producer) || !isIndex(r.seq)) {
      this.strays.set(messageId(r.producer, r.seq), [r.producer, r.seq]);
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
    page[j] = flag | bump(seen.overflow, r.seq, count, COUNT_OVERFLOW);
  }

  seen(producer: number): ProducerSeen | undefined {
    return this.producers.get(producer);
  }

  producerIds(): number[] {
    return [...this.producers.keys()];
  }

  /**
   * Records whose producer or seq is not a non-negative integer; always unexpected. Smallest
   * first, whatever the order the partitions were read in.
   */
  strayIds(): string[] {
    return [...this.strays]
      .sort(([a, x], [b, y]) => compareIds(x, y[0], y[1]) || compareStrings(a, b))
      .map(([id]) => id);
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
      seen = newSeen();
      this.producers.set(producer, seen);
    }
    return seen;
  }
}

/** How many times each message was processed with outcome ok (re-processings count). */
class ProcessingLog {
  private readonly producers = new Map<number, ProducerSeen>();

  add(producer: number, seq: number): void {
    let seen = this.producers.get(producer);
    if (!seen) {
      seen = newSeen();
      this.producers.set(producer, seen);
    }
    const index = Math.floor(seq / PAGE_SIZE);
    const page = seen.counts.pageFor(index);
    const j = seq - index * PAGE_SIZE;
    page[j] = bump(seen.overflow, seq, page[j]!, PROCESSED_OVERFLOW);
  }

  of(producer: number): ProducerSeen | undefined {
    return this.producers.get(producer);
  }

  producerIds(): number[] {
    return [...this.producers.keys()];
  }
}

/** The smallest distinct message ids offered, by producer then seq, at most EXAMPLE_LIMIT. */
class SmallestIds {
  private readonly ids: [number, number][] = [];

  offer(producer: number, seq: number): void {
    const { ids } = this;
    let i = ids.length;
    while (i > 0 && compareIds(ids[i - 1]!, producer, seq) > 0) i--;
    const before = ids[i - 1];
    if (before && before[0] === producer && before[1] === seq) return;
    if (i >= EXAMPLE_LIMIT) return;
    ids.splice(i, 0, [producer, seq]);
    if (ids.length > EXAMPLE_LIMIT) ids.pop();
  }

  list(): string[] {
    return this.ids.map(([producer, seq]) => messageId(producer, seq));
  }
}

function compareIds(id: [number, number], producer: number, seq: number): number {
  return id[0] - producer || id[1] - seq;
}

/**
 * Output records that lie in the output range of an aborted transaction. Ranges and records
 * may arrive in any order: each (record, range) meeting is counted once, by whichever
 * arrives second. One bit per output offset read, per drain.
 */
class AbortTracker {
  private readonly aborted = new OffsetSet();
  private readonly committed = new OffsetSet();
  private readonly uncommitted = new OffsetSet();
  /** read_committed records in aborted ranges */
  reads = 0;
  /** read_uncommitted records in aborted ranges */
  visible = 0;
  readonly examples = new SmallestIds();

  addAborted(e: ProcessedEvent): void {
    const ranges = Object.entries(e.output ?? {});
    // The chunk went to one partition in item order: item i is the record at base + i.
    const single = ranges.length === 1 && ranges[0]![1][1] === e.items.length;
    for (const [key, [base, count]] of ranges) {
      const partition = Number(key);
      checkOutputRange(partition, base, count);
      for (let i = 0; i < count; i++) {
        const offset = base + i;
        if (!this.aborted.add(partition, offset)) continue;
        if (this.committed.has(partition, offset)) {
          this.reads++;
          const item = single ? e.items[i] : undefined;
          if (item) this.examples.offer(item[0], item[1]);
        }
        if (this.uncommitted.has(partition, offset)) this.visible++;
      }
    }
  }

  addRead(r: DrainedRecord, isolation: OutputIsolation): void {
    const read = isolation === "committed" ? this.committed : this.uncommitted;
    if (!read.add(r.partition, r.offset)) return;
    if (!this.aborted.has(r.partition, r.offset)) return;
    if (isolation === "uncommitted") {
      this.visible++;
      return;
    }
    this.reads++;
    this.examples.offer(r.producer, r.seq);
  }
}

/** Records the seq as seen in its partition; true if a higher seq was seen there before. */
function advance(partition: PartitionState, producer: number, seq: number): boolean {
  const max = partition.maxSeq.get(producer) ?? -1;
  if (seq > max) partition.maxSeq.set(producer, seq);
  return seq < max;
}

/**
 * The count field after one more copy; a field at `overflow` means "exact count in the
 * map", so counts past the field's range go to `overflow`.
 */
function bump(overflow: Map<number, number>, seq: number, count: number, max: number): number {
  if (count < max - 1) return count + 1;
  overflow.set(seq, count === max ? overflow.get(seq)! + 1 : max);
  return max;
}

function copiesOf(mark: number, seq: number, seen: ProducerSeen | undefined): number {
  const count = mark & COUNT_MASK;
  return count === COUNT_OVERFLOW ? seen!.overflow.get(seq)! : count;
}

function processingsOf(mark: number, seq: number, log: ProducerSeen | undefined): number {
  return mark === PROCESSED_OVERFLOW ? log!.overflow.get(seq)! : mark;
}

/** Streams history events and drained records in any order; `result()` at the end. */
export class Reconciler {
  private readonly outcomes = new OutcomeLog();
  private readonly input = new RecordTally();
  private readonly output = new RecordTally();
  private readonly processings = new ProcessingLog();
  private readonly aborts = new AbortTracker();
  private readonly items = { processed: 0, aborted: 0, unknown: 0 };
  /** worker → time of its first start */
  private readonly workers = new Map<string, number>();
  private readonly crashes: WorkerCrash[] = [];
  private readonly faults: FaultWindow[] = [];
  private run: RunStarted | null = null;
  private end: RunEnded | null = null;
  private lastTime: number | null = null;
  private readonly unconfirmed = { messages: 0, partitions: new Set<number>() };
  private readonly errors = new Map<string, ErrorGroup>();

  /** An event of the producer history or of any processor history, in any interleaving. */
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
        this.addCompletion(e);
        break;
      case "fault":
        this.addFault(e);
        break;
      case "end":
        this.end = e;
        break;
      case "processed":
        this.addProcessed(e);
        break;
      case "worker":
        this.addWorker(e);
        break;
    }
    this.lastTime = Math.max(this.lastTime ?? e.time, e.time);
  }

  /** A record of the run's input topic (read_committed drain). */
  addRecord(r: DrainedRecord): void {
    this.input.add(r);
  }

  /**
   * A row of the run's external sink (partition = input partition, offset = row id). A sink
   * run has no output topic: its rows take the output topic's place. Rows must arrive per
   * partition in increasing row id order.
   */
  addSinkRecord(r: DrainedRecord): void {
    this.output.add(r);
  }

  /**
   * A record of the run's output topic, from the read_committed or the read_uncommitted
   * drain. Records of one drain must arrive per partition in increasing offset order.
   */
  addOutputRecord(r: DrainedRecord, isolation: OutputIsolation): void {
    if (isolation === "committed") this.output.add(r);
    this.aborts.addRead(r, isolation);
  }

  /**
   * A send's outcome. An ok's unconfirmed seqs are unknown: the client said ok, no broker did.
   * Marking them unknown first, then raising the rest to ok, keeps "strongest outcome wins".
   */
  private addCompletion(e: SendCompleted): void {
    const code = OUTCOME_CODE[e.type];
    if (e.type !== "ok" || !e.unconfirmed) {
      this.outcomes.mark(e.producer, e.from, e.to, code);
      if (e.type !== "ok") this.addError(e.type, e.error, e.to - e.from + 1);
      return;
    }
    let next = e.from;
    const ranges = [...e.unconfirmed.seqs].sort((a, b) => a[0] - b[0]);
    for (const [from, to] of ranges) {
      const lo = Math.max(from, e.from);
      const hi = Math.min(to, e.to);
      if (lo > hi) continue;
      if (lo > next) this.outcomes.mark(e.producer, next, lo - 1, OK);
      this.outcomes.mark(e.producer, lo, hi, UNKNOWN);
      // ranges may overlap: count each message once
      this.unconfirmed.messages += Math.max(0, hi - Math.max(lo, next) + 1);
      next = Math.max(next, hi + 1);
    }
    if (next <= e.to) this.outcomes.mark(e.producer, next, e.to, OK);
    for (const p of e.unconfirmed.partitions) this.unconfirmed.partitions.add(p);
  }

  private addError(outcome: "fail" | "unknown", error: string | undefined, messages: number) {
    const text = error ?? "(no error recorded)";
    const key = `${outcome}\u0000${text}`;
    const group = this.errors.get(key) ?? { outcome, error: text, sends: 0, messages: 0 };
    group.sends += 1;
    group.messages += messages;
    this.errors.set(key, group);
  }

  result(): Reconciliation {
    const acksZero = this.run?.acks === 0;
    const toSink = this.run?.sink !== undefined;
    const pipeline = this.run?.topics.output !== undefined || toSink;
    const stage = toSink ? "consumer-sink" : "processor-output";
    return {
      run: this.run,
      messages: countMessages(this.outcomes, acksZero),
      faults: this.faults.map((f) => ({ ...f })),
      hops: pipeline ? this.pipelineHops(acksZero, stage) : this.producerHops(acksZero),
      processor: pipeline ? this.processorSummary() : null,
      complete: this.end !== null,
      endReason: this.end?.reason ?? null,
      durationMs: this.lastTime,
      unconfirmed: {
        messages: this.unconfirmed.messages,
        partitions: [...this.unconfirmed.partitions].sort((a, b) => a - b),
      },
      errors: [...this.errors.values()]
        .map((g) => ({ ...g }))
        .sort(
          (a, b) =>
            b.messages - a.messages ||
            a.error.localeCompare(b.error) ||
            compareStrings(a.outcome, b.outcome),
        ),
    };
  }

  /** No processor stage: end to end is judged on the input topic. */
  private producerHops(acksZero: boolean): HopCounts[] {
    const input = countHop("producer-broker", this.outcomes, this.input, acksZero);
    const endToEnd = { ...input, name: "end-to-end" as const, examples: copyExamples(input) };
    return [input, endToEnd];
  }

  private pipelineHops(acksZero: boolean, stage: Stage): HopCounts[] {
    const hops = countPipeline(
      {
        outcomes: this.outcomes,
        input: this.input,
        processings: this.processings,
        output: this.output,
      },
      acksZero,
      stage,
    );
    for (const hop of [hops[2], hops[3]]) {
      hop.abortedReads = this.aborts.reads;
      hop.abortedVisible = this.aborts.visible;
      hop.examples.abortedReads = this.aborts.examples.list();
    }
    return hops;
  }

  private processorSummary(): ProcessorSummary {
    const workers = [...this.workers]
      .sort(([a, ta], [b, tb]) => ta - tb || compareStrings(a, b))
      .map(([worker]) => worker);
    const crashes = this.crashes
      .map((c) => ({ ...c }))
      .sort((a, b) => a.time - b.time || compareStrings(a.worker, b.worker));
    return { ...this.items, workers, crashes };
  }

  private addProcessed(e: ProcessedEvent): void {
    switch (e.outcome) {
      case "ok":
        this.items.processed += e.items.length;
        for (const [producer, seq] of e.items) {
          // An input record without this run's identity cannot be followed; skip it.
          if (isIndex(producer) && isIndex(seq)) this.processings.add(producer, seq);
        }
        return;
      case "aborted":
        this.items.aborted += e.items.length;
        this.aborts.addAborted(e);
        return;
      case "unknown":
        this.items.unknown += e.items.length;
        return;
    }
  }

  private addWorker(e: WorkerEvent): void {
    if (e.phase === "start") {
      const first = this.workers.get(e.worker);
      if (first === undefined || e.time < first) this.workers.set(e.worker, e.time);
    } else if (e.phase === "crash") {
      this.crashes.push({ worker: e.worker, point: e.point ?? null, time: e.time });
    }
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

export interface OutputDrains {
  committed?: Iterable<DrainedRecord>;
  uncommitted?: Iterable<DrainedRecord>;
  /** the external sink's rows (a run with RunStarted `sink`) */
  sink?: Iterable<DrainedRecord>;
}

export function reconcile(
  history: Iterable<HistoryEvent>,
  records: Iterable<DrainedRecord>,
  output: OutputDrains = {},
): Reconciliation {
  const reconciler = new Reconciler();
  for (const e of history) reconciler.addEvent(e);
  for (const r of records) reconciler.addRecord(r);
  for (const r of output.committed ?? []) reconciler.addOutputRecord(r, "committed");
  for (const r of output.uncommitted ?? []) reconciler.addOutputRecord(r, "uncommitted");
  for (const r of output.sink ?? []) reconciler.addSinkRecord(r);
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
  addStrays(hop, tally);
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

interface PipelineState {
  outcomes: OutcomeLog;
  input: RecordTally;
  processings: ProcessingLog;
  /** the output topic, or the sink's rows */
  output: RecordTally;
}

/** The processor's own hop: to an output topic, or to an external sink. */
type Stage = "processor-output" | "consumer-sink";

/**
 * The four hops of a run with a processor stage, in HOPS order, in one pass over the state:
 * producer-broker, broker-consumer, `stage`, end-to-end.
 */
function countPipeline(
  state: PipelineState,
  acksZero: boolean,
  stage: Stage,
): [HopCounts, HopCounts, HopCounts, HopCounts] {
  const hops = [
    emptyHop("producer-broker"),
    emptyHop("broker-consumer"),
    emptyHop(stage),
    emptyHop("end-to-end"),
  ] as const;
  const [stored, consumed, written, endToEnd] = hops;
  const acked = acksZero ? -1 : OK;
  const { outcomes, input, processings, output } = state;
  const producers = sortedUnion(
    sortedUnion(outcomes.producerIds(), input.producerIds()),
    sortedUnion(processings.producerIds(), output.producerIds()),
  );
  for (const producer of producers) {
    const sent = outcomes.of(producer);
    const inSeen = input.seen(producer);
    const done = processings.of(producer);
    const outSeen = output.seen(producer);
    const indexes = sortedUnion(
      sortedUnion(sent?.pageIndexes() ?? [], inSeen?.counts.pageIndexes() ?? []),
      sortedUnion(done?.counts.pageIndexes() ?? [], outSeen?.counts.pageIndexes() ?? []),
    );
    for (const index of indexes) {
      const sentPage = sent?.page(index) ?? EMPTY_PAGE;
      const inPage = inSeen?.counts.page(index) ?? EMPTY_PAGE;
      const donePage = done?.counts.page(index) ?? EMPTY_PAGE;
      const outPage = outSeen?.counts.page(index) ?? EMPTY_PAGE;
      const base = index * PAGE_SIZE;
      for (let j = 0; j < PAGE_SIZE; j++) {
        const outcome = sentPage[j]!;
        const inMark = inPage[j]!;
        const doneMark = donePage[j]!;
        const outMark = outPage[j]!;
        if ((outcome | inMark | doneMark | outMark) === 0) continue;
        const seq = base + j;
        if (outcome !== NONE || inMark !== 0) {
          countMessage(stored, producer, seq, outcome, inMark, inSeen, acked);
        }
        if (outcome !== NONE || outMark !== 0) {
          countMessage(endToEnd, producer, seq, outcome, outMark, outSeen, acked);
        }
        if (outcome === NONE) {
          // Never invoked: reported once per hop as unexpected where it was read.
          if (outMark !== 0) countMessage(written, producer, seq, outcome, outMark, outSeen, acked);
          continue;
        }
        const oks = processingsOf(doneMark, seq, done);
        const outCopies = copiesOf(outMark, seq, outSeen);
        const storedCopies = copiesOf(inMark, seq, inSeen);
        countConsumed(consumed, producer, seq, outcome === acked, storedCopies, oks, outCopies);
        if (stage === "consumer-sink") {
          countSunk(written, producer, seq, { oks, rows: outCopies, storedCopies }, outMark);
        } else {
          countWritten(written, producer, seq, oks, outCopies, outMark);
        }
      }
    }
  }
  addStrays(stored, input);
  addStrays(written, output);
  addStrays(endToEnd, output);
  for (const hop of hops) hop.out = hop.in - hop.lost;
  return [stored, consumed, written, endToEnd];
}

/**
 * broker-consumer, one invoked message: stored in the input topic, was it processed with
 * effect? A processing counts when its history says ok or when its output was read
 * (a worker killed between the output write and its history flush is no loss).
 */
function countConsumed(
  hop: HopCounts,
  producer: number,
  seq: number,
  acked: boolean,
  storedCopies: number,
  oks: number,
  outCopies: number,
): void {
  const { examples } = hop;
  if (storedCopies > 0) {
    hop.in++;
    if (oks === 0 && outCopies === 0) {
      hop.lost++;
      addExample(examples.lost, messageId(producer, seq));
      if (acked) {
        hop.lostAcked++;
        addExample(examples.lostAcked, messageId(producer, seq));
      } else {
        hop.lostUnacked++;
        addExample(examples.lostUnacked, messageId(producer, seq));
      }
    }
  }
  // Each stored copy is delivered once by right (a producer retry is producer-broker's
  // duplicate); processings beyond them are re-deliveries after a crash before the commit.
  const explained = Math.max(storedCopies, 1);
  if (oks > explained) {
    hop.duplicated += oks - explained;
    addExample(examples.duplicated, messageId(producer, seq));
  }
}

/**
 * processor-output, one invoked message: were the output writes the processor was told
 * succeeded read back (read_committed)? Copies beyond the ok processings (at least one
 * processing explains a copy that was read) are output producer retries.
 */
function countWritten(
  hop: HopCounts,
  producer: number,
  seq: number,
  oks: number,
  outCopies: number,
  outMark: number,
): void {
  const { examples } = hop;
  if (oks > 0) {
    hop.in++;
    if (outCopies === 0) {
      hop.lost++;
      hop.lostAcked++;
      addExample(examples.lost, messageId(producer, seq));
      addExample(examples.lostAcked, messageId(producer, seq));
    }
  }
  const extra = outCopies - Math.max(oks, 1);
  if (extra > 0) {
    hop.duplicated += extra;
    addExample(examples.duplicated, messageId(producer, seq));
  }
  if (outCopies > 0 && outMark & REORDERED) {
    hop.reordered++;
    addExample(examples.reordered, messageId(producer, seq));
  }
}

/**
 * consumer-sink, one invoked message: did what the processor wrote (its DB transaction
 * committed) end up as exactly one row per copy the broker stored? Rows beyond the stored
 * copies come from re-processing: a plain sink's insert repeated after a crash.
 */
function countSunk(
  hop: HopCounts,
  producer: number,
  seq: number,
  n: { oks: number; rows: number; storedCopies: number },
  mark: number,
): void {
  const { examples } = hop;
  const id = messageId(producer, seq);
  if (n.oks > 0 || n.rows > 0) {
    hop.in++;
    if (n.rows === 0) {
      hop.lost++;
      hop.lostAcked++;
      addExample(examples.lost, id);
      addExample(examples.lostAcked, id);
    }
  }
  const extra = n.rows - Math.max(n.storedCopies, 1);
  if (extra > 0) {
    hop.duplicated += extra;
    addExample(examples.duplicated, id);
  }
  if (n.rows > 0 && mark & REORDERED) {
    hop.reordered++;
    addExample(examples.reordered, id);
  }
}

function addStrays(hop: HopCounts, tally: RecordTally): void {
  for (const id of tally.strayIds()) {
    hop.unexpected++;
    addExample(hop.examples.unexpected, id);
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
    abortedReads: 0,
    abortedVisible: 0,
    unexpected: 0,
    examples: emptyExamples(),
  };
}

export function emptyExamples(): Examples {
  return {
    lost: [],
    lostAcked: [],
    lostUnacked: [],
    duplicated: [],
    reordered: [],
    abortedReads: [],
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

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function checkRange(producer: number, from: number, to: number): void {
  if (!isIndex(producer) || !isIndex(from) || !isIndex(to) || from > to) {
    throw new RangeError(`bad send range in history: producer ${producer}, [${from}, ${to}]`);
  }
}

function checkOutputRange(partition: number, base: number, count: number): void {
  if (!isIndex(partition) || !isIndex(base) || !isIndex(count)) {
    throw new RangeError(
      `bad output range in processor history: partition ${partition}, [${base}, +${count})`,
    );
  }
}
