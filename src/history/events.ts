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
  topics: { input: string };
  /** acks=0 sends are never "ok": the client is never told the write happened. */
  acks: number;
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

export type HistoryEvent = RunStarted | SendInvoked | SendCompleted | FaultEvent | RunEnded;

/** One record read back by the final drain, identified by the headers the producer stamped. */
export interface DrainedRecord {
  partition: number;
  offset: number;
  producer: number;
  seq: number;
}

export const HOPS = ["producer-broker", "end-to-end"] as const;
export type HopName = (typeof HOPS)[number];

/** Counts a profile can require to be zero at a hop. */
export const COUNTS = ["lost", "lostAcked", "lostUnacked", "duplicated", "reordered"] as const;
export type CountName = (typeof COUNTS)[number];

/** Per hop, the counts that must be zero. lostAcked and abortedReads are always enforced. */
export type Expect = Partial<Record<HopName, CountName[]>>;

/** Message id as shown in reports: "<producer>:<seq>". */
export function messageId(producer: number, seq: number): string {
  return `${producer}:${seq}`;
}
