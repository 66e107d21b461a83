import type { LibrdKafkaError } from "@confluentinc/kafka-javascript";
import type { Unconfirmed } from "../history/events.js";
import type { SendResult } from "./kafkajs.js";

/** Broker and client refusals that prove nothing of a batch was stored. */
const NOT_STORED = new Set([
  10, // MSG_SIZE_TOO_LARGE
  18, // RECORD_LIST_TOO_LARGE
  21, // INVALID_REQUIRED_ACKS
  29, // TOPIC_AUTHORIZATION_FAILED
  -188, // _UNKNOWN_TOPIC
  -190, // _UNKNOWN_PARTITION
]);

/** A record whose delivery report is an error. */
export type Failure = { seq: number; partition: number; error: LibrdKafkaError };

/** What a batch's delivery reports said: how many, each partition's lowest offset, the failures. */
export interface Tally {
  count: number;
  offsets: Map<number, number>;
  failed: Failure[];
}

/**
 * One batch's delivery reports, counted as they come: nothing is kept per acknowledged record
 * but its partition's lowest offset. `done` resolves once every record has its report.
 */
export class BatchReports implements Tally {
  readonly offsets = new Map<number, number>();
  readonly failed: Failure[] = [];
  readonly count: number;
  readonly done: Promise<Tally>;
  private readonly reported: Uint8Array;
  private left: number;
  private resolve!: (tally: Tally) => void;

  /** `partitions[i]` is where record `from + i` was produced */
  constructor(
    private readonly from: number,
    private readonly partitions: number[],
  ) {
    this.count = this.left = partitions.length;
    this.reported = new Uint8Array(partitions.length);
    this.done = new Promise<Tally>((resolve) => (this.resolve = resolve));
  }

  /** Books record i's report (a second one for the same record is ignored); true once all are in. */
  report(i: number, error: LibrdKafkaError | null | undefined, offset?: number): boolean {
    if (this.reported[i] === 1 || i < 0 || i >= this.count) return this.left === 0;
    this.reported[i] = 1;
    const partition = this.partitions[i]!;
    if (error) this.failed.push({ seq: this.from + i, partition, error });
    else if (offset !== undefined && offset >= 0) {
      const known = this.offsets.get(partition);
      if (known === undefined || offset < known) this.offsets.set(partition, offset);
    }
    this.left -= 1;
    if (this.left === 0) this.resolve(this);
    return this.left === 0;
  }

  /** The producer is gone: every report still owed is this error. */
  abandon(error: LibrdKafkaError): void {
    for (let i = 0; i < this.count; i += 1) this.report(i, error);
  }
}

/**
 * ok for the records the broker acknowledged; those that failed are unconfirmed (unknown),
 * the whole batch unknown when none got through, fail only when the error proves nothing
 * was stored.
 */
export function outcomeOf(tally: Tally): SendResult {
  const { failed } = tally;
  const offsets = offsetsOf(tally);
  if (failed.length === 0) return { outcome: "ok", detail: offsets ? { offsets } : {} };
  const error = rdText(failed[0]!.error);
  if (failed.length === tally.count) {
    const stored = failed.some((f) => !NOT_STORED.has(f.error.code));
    return { outcome: stored ? "unknown" : "fail", detail: { error } };
  }
  const unconfirmed: Unconfirmed = {
    partitions: [...new Set(failed.map((f) => f.partition))].sort((a, b) => a - b),
    seqs: seqRanges(failed.map((f) => f.seq)),
  };
  return { outcome: "ok", detail: { ...(offsets ? { offsets } : {}), unconfirmed, error } };
}

/** Each partition's lowest acknowledged offset, as the history writes it. */
export function offsetsOf(tally: Tally): Record<string, string> | undefined {
  if (tally.offsets.size === 0) return undefined;
  const offsets: Record<string, string> = {};
  const sorted = [...tally.offsets].sort(([a], [b]) => a - b);
  for (const [partition, offset] of sorted) offsets[partition] = String(offset);
  return offsets;
}

/** Sorted seqs as inclusive ranges. */
function seqRanges(seqs: number[]): [number, number][] {
  const sorted = [...seqs].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const s of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else ranges.push([s, s]);
  }
  return ranges;
}

export function rdText(err: unknown): string {
  const e = err as Partial<LibrdKafkaError>;
  const code = e.code === undefined ? "" : ` [${e.code}]`;
  return `LibrdKafkaError${code}: ${e.message ?? String(err)}`;
}
