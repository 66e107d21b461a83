/**
 * The run history: one JSON object per line, appended as the run goes.
 * Sends are recorded per batch as a range of sequence numbers [from, to] (both inclusive) of one producer,
 * Jepsen style: an `invoke`, then exactly one of `ok` / `fail` / `unknown`.
 * An invoke with no completion (crash, Ctrl-C) counts as unknown.
 * `time` is milliseconds since the run started.
 */

export type Outcome = "ok" | "fail" | "unknown";

export interface RunStarted {
  type: "run";
  runId: string;
  profile: string;
  seed: number;
  startedAt: string;
  /** output is set when the run has a processor stage */
  topics: { input: string; output?: string };
  /** acks=0 sends are never "ok": the client is never told the write happened. */
  acks: number;
  /** set when the processor writes to an external sink instead of an output topic */
  sink?: SinkInfo;
  /**
   * set when the processor stage is the user's own app: it writes no history of its own, so
   * each record it wrote (output topic or sink row) counts as one processing with effect
   */
  app?: { command: string };
}

export const SINK_TYPES = ["none", "sqlite", "postgres"] as const;
export type SinkType = (typeof SINK_TYPES)[number];

/**
 * plain: insert, then commit the offset (a crash in between duplicates rows);
 * idempotent: unique key on (producer, seq), INSERT … ON CONFLICT DO NOTHING;
 * upsert-versioned: one row per (producer, seq), updated only by a newer version (input offset);
 * atomic: rows and the consumed offsets in one DB transaction, resumed from the DB's offsets.
 */
export const SINK_MODES = ["plain", "idempotent", "upsert-versioned", "atomic"] as const;
export type SinkMode = (typeof SINK_MODES)[number];

/** The external sink of a run: what the reconciler needs to know about it. */
export interface SinkInfo {
  type: Exclude<SinkType, "none">;
  mode: SinkMode;
  /** the table holding the rows */
  table: string;
}

export interface SendInvoked {
  type: "invoke";
  producer: number;
  from: number;
  to: number;
  time: number;
}

export interface SendCompleted {
  type: Outcome;
  producer: number;
  from: number;
  to: number;
  time: number;
  /** partition → base offset of the acked batch, where the client reported it */
  offsets?: Record<string, string>;
  error?: string;
  /** a transaction whose commit failed, found committed or aborted once it was finished */
  resolved?: "committed" | "aborted";
  /**
   * ok only: the client reported success, but the produce response carried no acknowledged
   * offset for these partitions; their messages (seq ranges, inclusive) count as unknown.
   */
  unconfirmed?: Unconfirmed;
  /** transactional producer: the transaction (numbered per producer from 0) the batch was in */
  txn?: number;
}

/** Messages of an ok batch that no broker acknowledged, and the partitions they went to. */
export interface Unconfirmed {
  partitions: number[];
  seqs: [number, number][];
}

export interface FaultEvent {
  type: "fault";
  phase: "start" | "stop";
  fault: string;
  target: string;
  time: number;
}

export interface RunEnded {
  type: "end";
  time: number;
  reason: "completed" | "interrupted" | "error";
  error?: string;
}

/**
 * The processor (consume → process → produce to the output topic or write to the sink) handled one chunk of input
 * records of one input partition. Written by the worker process to its own history file
 * (`processor-<slot>-<incarnation>.jsonl`) once the outcome is known, flushed before the
 * input offsets are committed (commit modes after / auto / transaction).
 *  - ok: the output records were acked (for transactions: the transaction committed; for a
 *    sink: its DB transaction committed; `items` then lists the rows written);
 *  - aborted: the transaction was aborted: its output must never be read read_committed;
 *  - unknown: the output write's outcome is not known (timeout, crash of the commit).
 */
export interface ProcessedEvent {
  type: "processed";
  /** worker slot and incarnation, e.g. "0.1" */
  worker: string;
  partition: number;
  /** input offsets handled, inclusive */
  fromOffset: number;
  toOffset: number;
  /** identities of the input records processed, as [producer, seq] pairs, in offset order */
  items: [number, number][];
  /**
   * the input offset of each record of the chunk, in order; written only when the chunk's
   * records are not every offset from fromOffset to toOffset (transaction markers, or records
   * of aborted transactions a read_committed consumer rightly skipped)
   */
  offsets?: number[];
  outcome: "ok" | "aborted" | "unknown";
  /** output partition → [baseOffset, count] of what this chunk wrote, where known */
  output?: Record<string, [number, number]>;
  /** commit: transaction: the transaction (numbered per worker incarnation) the chunk was in */
  txn?: number;
  time: number;
}

/**
 * A processor worker started, crashed or was stopped (written by the run), or stopped itself on
 * an error it cannot recover from in place ("fatal", written by the worker to its own history
 * before it exits: the run's crash event of that incarnation then says why).
 */
export interface WorkerEvent {
  type: "worker";
  phase: "start" | "crash" | "stop" | "fatal";
  worker: string;
  /** for crashes: the crash point, e.g. "after-process-before-commit" */
  point?: string;
  /** fatal: the error (class [code]: message (cause)) and the call that raised it */
  error?: string;
  call?: string;
  time: number;
}

export type HistoryEvent =
  RunStarted | SendInvoked | SendCompleted | FaultEvent | RunEnded | ProcessedEvent | WorkerEvent;

/** One record read back by the final drain, identified by the headers the producer stamped. */
export interface DrainedRecord {
  partition: number;
  offset: number;
  producer: number;
  seq: number;
}

/**
 * One line of tail.jsonl: records a reader following the input topic during the run
 * (read_uncommitted) saw in one fetch of one partition, as [offset, producer, seq] triples
 * (the identity drained records carry). `time` is milliseconds since the run started.
 */
export interface TailSeen {
  type: "seen";
  time: number;
  partition: number;
  records: [number, number, number][];
}

/**
 * producer-broker: producer history vs the input topic (read_committed); with broker-storage,
 * an acked message counts as having reached the broker (it said so) even when the drain
 * misses it: that loss is broker-storage's.
 * broker-storage (runs with acks ≠ 0 whose input topic a tail reader followed): the messages
 * a broker acknowledged vs the input topic's final drain: acked, then gone (a leader change
 * truncated the log); lostAfterVisible: acked messages the tail reader saw at an offset
 * that no longer holds them.
 * broker-consumer: input records stored vs records the processor processed with effect.
 * processor-output: the processor's acked output writes vs the output topic (read_committed).
 * consumer-sink: what the processor wrote to the external sink vs the sink's rows.
 * end-to-end: producer history vs the last stage of the pipeline (topic read_committed, or
 * the sink's rows).
 * A run has the hops of its stages: no processor → producer-broker, end-to-end; processor
 * to a topic → all but consumer-sink; processor to a sink → all but processor-output; plus
 * broker-storage when acks ≠ 0 and the run recorded a tail (tail.jsonl).
 */
export const HOPS = [
  "producer-broker",
  "broker-storage",
  "broker-consumer",
  "processor-output",
  "consumer-sink",
  "end-to-end",
] as const;
export type HopName = (typeof HOPS)[number];

/** Counts a profile can require to be zero at a hop. */
export const COUNTS = [
  "lost",
  "lostAcked",
  "lostUnacked",
  "duplicated",
  "reordered",
  "abortedReads",
] as const;
export type CountName = (typeof COUNTS)[number];

/** Per hop, the counts that must be zero. lostAcked and abortedReads are always enforced. */
export type Expect = Partial<Record<HopName, CountName[]>>;

/** Message id as shown in reports: "<producer>:<seq>". */
export function messageId(producer: number, seq: number): string {
  return `${producer}:${seq}`;
}
