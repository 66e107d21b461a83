import type { DrainedRecord, HistoryEvent, TailSeen } from "../history/events.js";
import { Reconciler } from "./reconciler.js";
import type { Reconciliation } from "./types.js";

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
 * A run that recorded a tail (tail.jsonl: what a reader following the input topic saw) with
 * acks ≠ 0 also has broker-storage, right after producer-broker:
 *  - broker-storage: in = messages a broker acknowledged (ok, not unconfirmed); lost(Acked) =
 *    those missing from the input drain, which producer-broker then no longer counts as lost;
 *    lostAfterVisible = acked messages the tail saw at an offset the drain shows holding
 *    another record or nothing (a truncated log), with examples (id, partition, offset, time).
 *    Tail lines must come before the input drain's records.
 * Memory: a byte per message for each of outcome, input copies, ok processings and output
 * copies, plus a bit per output offset for each output drain; with a tail, 12 bytes per offset
 * the tail saw.
 *
 * The parts, one idea per file: types.ts (the result's shapes), storage.ts (paged typed
 * arrays keyed by (producer, seq) or offset), tallies.ts (copies read, processings),
 * aborts.ts (reads inside aborted output ranges), examples.ts, one checker per hop
 * (producer-broker.ts, broker-storage.ts, broker-consumer.ts, processor-output.ts,
 * consumer-sink.ts, end-to-end.ts, sharing hop.ts), passes.ts (the walk that feeds every
 * message to the checkers), visible.ts (what the tail saw, against the drain) and
 * reconciler.ts (the streaming Reconciler that ingests events and records).
 */

export { Reconciler } from "./reconciler.js";
export { emptyExamples } from "./examples.js";
export { type VisibleLoss } from "./types.js";
export {
  EXAMPLE_LIMIT,
  EXAMPLE_NAMES,
  type ErrorGroup,
  type ExampleName,
  type Examples,
  type FaultWindow,
  type HopCounts,
  type MessageTotals,
  type OutputIsolation,
  type ProcessorSummary,
  type Reconciliation,
  type UnconfirmedSummary,
  type WorkerCrash,
} from "./types.js";

export interface OutputDrains {
  committed?: Iterable<DrainedRecord>;
  uncommitted?: Iterable<DrainedRecord>;
  /** the external sink's rows (a run with RunStarted `sink`) */
  sink?: Iterable<DrainedRecord>;
  /**
   * what a reader following the input topic saw (tail.jsonl); given, even empty, it has the
   * broker-storage hop judged (acks ≠ 0)
   */
  tail?: Iterable<TailSeen>;
}

export function reconcile(
  history: Iterable<HistoryEvent>,
  records: Iterable<DrainedRecord>,
  output: OutputDrains = {},
): Reconciliation {
  const reconciler = new Reconciler();
  if (output.tail !== undefined) reconciler.judgeStorage();
  for (const line of output.tail ?? []) reconciler.addTail(line);
  for (const e of history) reconciler.addEvent(e);
  for (const r of records) reconciler.addRecord(r);
  for (const r of output.committed ?? []) reconciler.addOutputRecord(r, "committed");
  for (const r of output.uncommitted ?? []) reconciler.addOutputRecord(r, "uncommitted");
  for (const r of output.sink ?? []) reconciler.addSinkRecord(r);
  return reconciler.result();
}
