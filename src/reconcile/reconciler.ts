import { errorCause, refusedBeforeAppend } from "./error-cause.js";
import type {
  FaultEvent,
  HistoryEvent,
  ProcessedEvent,
  RunEnded,
  RunStarted,
  SendCompleted,
  WorkerEvent,
  DrainedRecord,
  TailSeen,
} from "../history/events.js";
import { AbortTracker } from "./aborts.js";
import { livenessFindings } from "./liveness.js";
import { ConsumerAborts } from "./consumer-aborts.js";
import { compareStrings, isIndex } from "./ids.js";
import { countInputHops, countPipeline, inHopsOrder, type Stage } from "./passes.js";
import { VisibleLog } from "./visible.js";
import { FAIL, OK, OUTCOME_CODE, OutcomeLog, PENDING, UNKNOWN, type OffsetSet } from "./storage.js";
import { ProcessingLog, RecordTally } from "./tallies.js";
import type {
  ErrorGroup,
  FaultWindow,
  HopCounts,
  MessageTotals,
  OutputIsolation,
  ProcessorSummary,
  Reconciliation,
  WorkerCrash,
} from "./types.js";

/** Streams history events and drained records in any order; `result()` at the end. */
/** Addresses listed per error group. */
const MAX_ADDRESSES = 10;

export class Reconciler {
  private readonly outcomes = new OutcomeLog();
  /** what the tail reader saw; null when the run recorded no tail */
  private visible: VisibleLog | null = null;
  /** an input drain record was added: no tail line may follow */
  private drained = false;
  private readonly input = new RecordTally();
  private readonly output = new RecordTally();
  private readonly processings = new ProcessingLog();
  private readonly aborts = new AbortTracker();
  /** set when the consumer claims read_committed on a transactional input */
  private consumerAborts: ConsumerAborts | null = null;
  private readonly items = { processed: 0, aborted: 0, unknown: 0 };
  /** worker → time of its first start */
  private readonly workers = new Map<string, number>();
  private readonly crashes: WorkerCrash[] = [];
  /** times of the processor's committed (ok) chunks */
  private readonly progress: number[] = [];
  /** worker → the error it stopped itself on */
  private readonly fatal = new Map<string, { error: string; call?: string }>();
  private readonly faults: FaultWindow[] = [];
  private run: RunStarted | null = null;
  private end: RunEnded | null = null;
  private lastTime: number | null = null;
  private lastSendTime: number | null = null;
  private readonly unconfirmed = { messages: 0, partitions: new Set<number>() };
  private readonly errors = new Map<string, ErrorGroup>();
  /** unknown sends the broker last refused (NotEnoughReplicas): failed unless the log has any */
  private refusals: SendCompleted[] = [];

  /**
   * The input topic's committed offsets (the reader of record's read_committed drain) and the
   * offsets it read up to, before any processed event: a processed record not among them is an
   * aborted read at broker-consumer.
   */
  judgeConsumerAborts(committed: OffsetSet, ends: Map<number, number>): void {
    this.consumerAborts = new ConsumerAborts(committed, ends);
  }

  /** An event of the producer history or of any processor history, in any interleaving. */
  addEvent(e: HistoryEvent): void {
    switch (e.type) {
      case "run":
        this.run = e;
        return;
      case "invoke":
        this.outcomes.mark(e.producer, e.from, e.to, PENDING);
        this.lastSendTime = Math.max(this.lastSendTime ?? e.time, e.time);
        break;
      case "ok":
      case "fail":
      case "unknown":
        this.addCompletion(e);
        this.lastSendTime = Math.max(this.lastSendTime ?? e.time, e.time);
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

  /**
   * The run recorded a tail (tail.jsonl, possibly empty): judge the broker-storage hop (when
   * acks ≠ 0). Implied by addTail.
   */
  judgeStorage(): void {
    this.visible ??= new VisibleLog();
  }

  /**
   * One line of the tail: what a reader following the input topic saw. Every tail line must
   * come before the input drain's records (each drained record clears what was seen at its
   * offset).
   */
  addTail(line: TailSeen): void {
    if (this.drained) {
      throw new Error("tail lines must be added before the input topic's drained records");
    }
    this.judgeStorage();
    this.visible!.addLine(line);
  }

  /** A record of the run's input topic (read_committed drain). */
  addRecord(r: DrainedRecord): void {
    this.input.add(r);
    this.drained = true;
    this.visible?.addDrained(r);
  }

  /**
   * A row of the run's external sink (partition = input partition, offset = row id). A sink
   * run has no output topic: its rows take the output topic's place. Rows must arrive per
   * partition in increasing row id order.
   */
  addSinkRecord(r: DrainedRecord): void {
    this.output.add(r);
    this.inferProcessing(r);
  }

  /**
   * A record of the run's output topic, from the read_committed or the read_uncommitted
   * drain. Records of one drain must arrive per partition in increasing offset order.
   */
  addOutputRecord(r: DrainedRecord, isolation: OutputIsolation): void {
    if (isolation === "committed") {
      this.output.add(r);
      this.inferProcessing(r);
    }
    this.aborts.addRead(r, isolation);
  }

  /**
   * The user's app keeps no history: what it wrote is all there is to know of its processing.
   * (Run event first: judge.ts adds the histories before the drains.)
   */
  private inferProcessing(r: DrainedRecord): void {
    if (!this.run?.app || !isIndex(r.producer) || !isIndex(r.seq)) return;
    this.processings.add(r.producer, r.seq);
    this.items.processed += 1;
  }

  /**
   * A send's outcome. An ok's unconfirmed seqs are unknown: the client said ok, no broker did.
   * Marking them unknown first, then raising the rest to ok, keeps "strongest outcome wins".
   */
  private addCompletion(e: SendCompleted): void {
    const code = OUTCOME_CODE[e.type];
    if (e.type === "unknown" && refusedBeforeAppend(e.error)) {
      this.outcomes.mark(e.producer, e.from, e.to, FAIL);
      this.refusals.push(e);
      return;
    }
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
    const { cause, addresses } = errorCause(text);
    const key = `${outcome}\u0000${cause}`;
    const group = this.errors.get(key) ?? {
      outcome,
      cause,
      error: text,
      addresses: [],
      sends: 0,
      messages: 0,
    };
    group.sends += 1;
    group.messages += messages;
    for (const a of addresses) {
      if (group.addresses.length < MAX_ADDRESSES && !group.addresses.includes(a))
        group.addresses.push(a);
    }
    this.errors.set(key, group);
  }

  /**
   * An unknown send whose last answer was a refusal before append (NotEnoughReplicas) counts
   * as failed — refused — when neither the reader of record nor the tail saw any of its
   * records; otherwise an earlier attempt was written after all and it stays unknown.
   */
  private settleRefusals(): void {
    if (this.refusals.length === 0) return;
    const sighted = new Set(this.visible?.sightings() ?? []);
    for (const e of this.refusals) {
      let seen = false;
      for (let seq = e.from; seq <= e.to && !seen; seq++) {
        seen = this.input.copies(e.producer, seq) > 0 || sighted.has(`${e.producer}:${seq}`);
      }
      if (seen) this.outcomes.mark(e.producer, e.from, e.to, UNKNOWN);
      this.addError(seen ? "unknown" : "fail", e.error, e.to - e.from + 1);
    }
    this.refusals = [];
  }

  result(): Reconciliation {
    this.settleRefusals();
    const acksZero = this.run?.acks === 0;
    const toSink = this.run?.sink !== undefined;
    const pipeline = this.run?.topics.output !== undefined || toSink;
    const stage = toSink ? "consumer-sink" : "processor-output";
    // broker-storage needs a broker's ack, and a tail to say the run judges it
    const storage = this.visible !== null && !acksZero;
    const processor = pipeline ? this.processorSummary() : null;
    return {
      run: this.run,
      messages: countMessages(this.outcomes, acksZero),
      faults: this.faults.map((f) => ({ ...f })),
      hops: pipeline
        ? this.pipelineHops(acksZero, stage, storage)
        : this.producerHops(acksZero, storage),
      processor,
      complete: this.end !== null,
      endReason: this.end?.reason ?? null,
      durationMs: this.lastTime,
      producingMs: this.lastSendTime,
      unconfirmed: {
        messages: this.unconfirmed.messages,
        partitions: [...this.unconfirmed.partitions].sort((a, b) => a - b),
      },
      liveness: processor ? livenessFindings(this.progress, processor.crashes, this.faults) : [],
      errors: [...this.errors.values()]
        .map((g) => ({ ...g, addresses: [...g.addresses].sort() }))
        .sort(
          (a, b) =>
            b.messages - a.messages ||
            a.cause.localeCompare(b.cause) ||
            compareStrings(a.outcome, b.outcome),
        ),
    };
  }

  /** No processor stage: end to end is judged on the input topic. */
  private producerHops(acksZero: boolean, storage: boolean): HopCounts[] {
    const hops = countInputHops(this.outcomes, this.input, acksZero, storage);
    const kept = hops.find((h) => h.name === "broker-storage");
    if (kept) this.addVisible(kept);
    return hops;
  }

  private pipelineHops(acksZero: boolean, stage: Stage, storage: boolean): HopCounts[] {
    const hops = countPipeline(
      {
        outcomes: this.outcomes,
        input: this.input,
        processings: this.processings,
        output: this.output,
        ...(this.consumerAborts ? { abortedProcessings: this.consumerAborts.processings } : {}),
      },
      acksZero,
      stage,
      storage,
    );
    for (const hop of [hops.written, hops.endToEnd]) {
      hop.abortedReads = this.aborts.reads;
      hop.abortedVisible = this.aborts.visible;
      hop.examples.abortedReads = this.aborts.examples.list();
    }
    if (this.consumerAborts) {
      hops.consumed.abortedReads = this.consumerAborts.reads;
      hops.consumed.examples.abortedReads = this.consumerAborts.examples.list();
    }
    if (hops.kept) this.addVisible(hops.kept);
    return inHopsOrder(hops);
  }

  /** broker-storage: what the tail reader saw and the drain lost. */
  private addVisible(kept: HopCounts): void {
    const found = this.visible?.lostAfterVisible(this.outcomes, (producer, seq) =>
      this.input.copies(producer, seq),
    );
    kept.lostAfterVisible = found?.count ?? 0;
    kept.lostAfterVisibleExamples = found?.examples ?? [];
  }

  private processorSummary(): ProcessorSummary {
    const workers = [...this.workers]
      .sort(([a, ta], [b, tb]) => ta - tb || compareStrings(a, b))
      .map(([worker]) => worker);
    const crashes = this.crashes
      .map((c) => ({ ...c, ...this.fatal.get(c.worker) }))
      .sort((a, b) => a.time - b.time || compareStrings(a.worker, b.worker));
    return { ...this.items, workers, crashes };
  }

  private addProcessed(e: ProcessedEvent): void {
    this.consumerAborts?.addChunk(e);
    switch (e.outcome) {
      case "ok":
        this.progress.push(e.time);
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
    } else if (e.phase === "fatal") {
      this.fatal.set(e.worker, {
        error: e.error ?? "(no error recorded)",
        ...(e.call ? { call: e.call } : {}),
      });
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

function countMessages(outcomes: OutcomeLog, acksZero: boolean): MessageTotals {
  const counts = outcomes.codeCounts();
  const ok = counts[OK]!;
  return {
    attempted: counts[PENDING]! + counts[FAIL]! + counts[UNKNOWN]! + ok,
    acked: acksZero ? 0 : ok,
    failed: counts[FAIL]!,
    unknown: counts[PENDING]! + counts[UNKNOWN]! + (acksZero ? ok : 0),
  };
}
