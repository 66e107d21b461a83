import type { HopName, RunEnded, RunStarted } from "../history/events.js";

/** The shapes a reconciliation is made of: per-hop counts, their examples, run summaries. */

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
  /**
   * broker-storage only: acked messages a reader following the input topic during the run saw
   * at an offset that the final drain shows holding another record or nothing: the log was
   * truncated after they were visible (a leader change). Informational: those still missing
   * are in lostAcked.
   */
  lostAfterVisible?: number;
  /** broker-storage only: up to EXAMPLE_LIMIT of them, smallest id first, with where and when */
  lostAfterVisibleExamples?: VisibleLoss[];
}

/** An acked message a tail reader saw at (partition, offset), `time` ms into the run. */
export interface VisibleLoss {
  id: string;
  partition: number;
  offset: number;
  time: number;
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
/** Failed or unknown sends of one cause (error-cause.ts): the text with addresses taken out. */
export interface ErrorGroup {
  outcome: "fail" | "unknown";
  /** the error text with each broker address replaced by `<address>` */
  cause: string;
  /** the first error text of the group, addresses and all */
  error: string;
  /** the addresses the group's errors named (up to 10) */
  addresses: string[];
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
  /** a worker that stopped itself: the error and the call that raised it */
  error?: string;
  call?: string;
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
  /** latest time of a producer's send or outcome: how long producing took; null without one */
  producingMs: number | null;
  unconfirmed: UnconfirmedSummary;
  /** most messages first */
  errors: ErrorGroup[];
  /** the processor's pauses and worker errors away from every fault (liveness.ts) */
  liveness: string[];
}

/** Which output drain a record comes from. */
export type OutputIsolation = "committed" | "uncommitted";
