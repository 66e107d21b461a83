import kafkajs from "kafkajs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Unconfirmed } from "../history/events.js";
import type { HistoryWriter } from "../history/writer.js";
import type { Profile } from "../profiles/schema.js";

import { messagesPerBatch, PartitionPlan } from "./batches.js";
import { HEADER_PRODUCER, HEADER_RUN, HEADER_SEQ } from "../identity/headers.js";
import { inputKeyValue, type IdentityMode } from "../identity/identity.js";
import { RefusalWatch } from "./outcome.js";
import { ProducerClient, type SendResult } from "./kafkajs.js";
import type { ClientName } from "../profiles/schema.js";
import type { Connection } from "../clients/connection.js";
import type { Fate, InDoubt } from "../reader/fate.js";

export interface Progress {
  sent: number;
  acked: number;
  failed: number;
  unknown: number;
}

export interface ProducerOptions {
  /** the client library: kafkajs (through `kafka`) or librdkafka (at `brokers`) */
  client?: ClientName;
  kafka: kafkajs.Kafka;
  /** librdkafka: where it bootstraps (the producer's listener proxies, or the cluster) */
  brokers?: string[];
  connection?: Connection;
  runId: string;
  topic: string;
  /** Logical producer id stamped in every message; seqs run 0…messages-1 for it. */
  producerId: number;
  messages: number;
  transactionalId?: string;
  settings: Profile["producer"];
  workload: Profile["workload"];
  history: HistoryWriter;
  clock: () => number;
  progress: Progress;
  signal: AbortSignal;
  /** For transactional producers: finds out whether a transaction whose commit failed committed. */
  resolveInDoubt?: (doubt: InDoubt) => Promise<Fate>;
  /** Where the identity also travels, for the user's app (default: the headers only). */
  identity?: IdentityMode;
  /** Stops the run when sends keep being refused alike; one per producer unless shared. */
  refusals?: RefusalWatch;
}

/**
 * Sends the producer's messages in batches, one send at a time, recording invoke → ok/fail/unknown
 * for each batch. Sends are not overlapped: concurrent send() calls may be reordered inside the
 * client, which would show up as "reordered" without any fault. Use more producers for load.
 * A batch holds batchSize messages, fewer when they would exceed batchBytes. A transactional
 * producer puts the batches of up to transactionMs in one transaction (see sendTransaction).
 * Throws a MisconfigurationError when the sends keep being refused alike (see RefusalWatch).
 */
export async function runProducer(opts: ProducerOptions): Promise<void> {
  const plan = new PartitionPlan(opts.workload.partitions, opts.workload.keys, opts.producerId);
  const client = await engineFor(opts, plan);
  const refusals = opts.refusals ?? new RefusalWatch();
  const payload = Buffer.alloc(opts.workload.messageSize, "x");
  const perBatch = messagesPerBatch(opts.settings, opts.workload.messageSize);
  const startedAt = opts.clock();
  /** The next batch from `from` on, paced, its invoke on disk; undefined once stopped. */
  const invoke = async (from: number): Promise<Batch | undefined> => {
    if (from >= opts.messages || opts.signal.aborted) return undefined;
    const to = Math.min(from + perBatch, opts.messages) - 1;
    await pace(opts.workload.rate, from, startedAt, opts.clock, opts.signal);
    if (opts.signal.aborted) return undefined;
    return invoked(opts, plan, from, to, payload);
  };
  try {
    let txn = 0;
    for (let batch = await invoke(0); batch;) {
      let last = batch;
      let result: SendResult;
      if (opts.transactionalId) {
        const batches = await sendTransaction(opts, client, batch, invoke, txn);
        txn += 1;
        last = batches[batches.length - 1]!.batch;
        result = batches[0]!.result;
      } else {
        result = await client.send(batch.from, batch.to, batch.messages);
        completed(opts, batch, result);
      }
      const stop = refusals.note(result.misconfiguration);
      if (stop) throw stop;
      batch = await invoke(last.to + 1);
    }
  } finally {
    await client.close();
  }
}

/** One batch of one producer: seqs from…to (inclusive), invoked, not yet completed. */
export interface Batch {
  from: number;
  to: number;
  messages: OutgoingMessage[];
}

/** A record as the producer builds it, for any client library. */
export interface OutgoingMessage {
  key: string | null;
  /** placed by the producer, so it knows which partitions a response must acknowledge */
  partition: number;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * The producer's client library. librdkafka's native binding is loaded only when asked for: it
 * cannot be loaded in a worker thread, where kafkajs producers run (producerThreads).
 */
async function engineFor(opts: ProducerOptions, plan: PartitionPlan): Promise<ProducerEngine> {
  if (opts.client !== "librdkafka") return new ProducerClient(opts, plan);
  const { RdProducerClient } = await import("./librdkafka.js");
  return new RdProducerClient(opts);
}

/** What a client library does for the send loop. */
interface ProducerEngine {
  send(from: number, to: number, messages: OutgoingMessage[]): Promise<SendResult>;
  /** one result per batch, in order (batches as `more` grew them) */
  sendTransactionally(
    batches: Batch[],
    more: () => Promise<Batch | undefined>,
  ): Promise<SendResult[]>;
  close(): Promise<void>;
}

/**
 * One transaction of a transactional producer: `first` and the batches `invoke` gives after it
 * while the transaction has been open less than transactionMs, sent one after the other, then
 * committed. Each batch keeps its own invoke (written before its send) and gets its own
 * outcome once the transaction's fate is known: ok when it committed, fail when it aborted,
 * unknown when that cannot be told. Returns the batches with their outcomes, in order.
 */
async function sendTransaction(
  opts: ProducerOptions,
  client: ProducerEngine,
  first: Batch,
  invoke: (from: number) => Promise<Batch | undefined>,
  txn: number,
): Promise<{ batch: Batch; result: SendResult }[]> {
  const openedAt = opts.clock();
  const batches = [first];
  const more = async (): Promise<Batch | undefined> => {
    if (opts.clock() - openedAt >= opts.settings.transactionMs) return undefined;
    const next = await invoke(batches[batches.length - 1]!.to + 1);
    if (next) batches.push(next);
    return next;
  };
  const results = await client.sendTransactionally(batches, more);
  return batches.map((batch, i) => {
    const result = results[i]!;
    completed(opts, batch, result, txn);
    return { batch, result };
  });
}

/**
 * Runs producers side by side. The first one to throw (a misconfiguration, say) stops the others
 * at their next batch; once all have stopped, its error is thrown.
 */
export async function runProducers(all: ProducerOptions[]): Promise<void> {
  const local = new AbortController();
  const stop = () => local.abort();
  const signals = [...new Set(all.map((o) => o.signal))];
  for (const s of signals) s.addEventListener("abort", stop, { once: true });
  if (signals.some((s) => s.aborted)) stop();
  try {
    const results = await Promise.allSettled(
      all.map((o) =>
        runProducer({ ...o, signal: local.signal }).catch((err: unknown) => {
          stop();
          throw err;
        }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  } finally {
    for (const s of signals) s.removeEventListener("abort", stop);
  }
}

/** Writes the batch's invoke, on disk before any byte of it can reach the broker. */
async function invoked(
  opts: ProducerOptions,
  plan: PartitionPlan,
  from: number,
  to: number,
  payload: Buffer,
): Promise<Batch> {
  opts.history.append({ type: "invoke", producer: opts.producerId, from, to, time: opts.clock() });
  await opts.history.flush();
  opts.progress.sent += to - from + 1;
  return { from, to, messages: buildMessages(opts, plan, from, to, payload) };
}

function completed(opts: ProducerOptions, batch: Batch, result: SendResult, txn?: number): void {
  const { from, to } = batch;
  opts.history.append({
    type: result.outcome,
    producer: opts.producerId,
    from,
    to,
    time: opts.clock(),
    ...result.detail,
    ...(txn === undefined ? {} : { txn }),
  });
  count(opts.progress, result, to - from + 1);
}

function buildMessages(
  opts: ProducerOptions,
  plan: PartitionPlan,
  from: number,
  to: number,
  payload: Buffer,
): OutgoingMessage[] {
  const producer = String(opts.producerId);
  const identity = opts.identity ?? "headers";
  const messages: OutgoingMessage[] = new Array(to - from + 1);
  for (let seq = from; seq <= to; seq += 1) {
    const { key, value } = inputKeyValue(identity, opts.producerId, seq, plan.key(seq), payload);
    messages[seq - from] = {
      key,
      // Placed by the producer, so it knows which partitions a response must acknowledge.
      partition: plan.partitionOf(seq),
      value,
      headers: { [HEADER_RUN]: opts.runId, [HEADER_PRODUCER]: producer, [HEADER_SEQ]: String(seq) },
    };
  }
  return messages;
}

function count(progress: Progress, result: SendResult, n: number): void {
  const unconfirmed = unconfirmedCount(result.detail.unconfirmed);
  if (result.outcome === "ok") {
    progress.acked += n - unconfirmed;
    progress.unknown += unconfirmed;
  } else if (result.outcome === "fail") progress.failed += n;
  else progress.unknown += n;
}

function unconfirmedCount(u: Unconfirmed | undefined): number {
  return u ? u.seqs.reduce((sum, [a, b]) => sum + b - a + 1, 0) : 0;
}

async function pace(
  rate: number,
  seq: number,
  startedAt: number,
  clock: () => number,
  signal: AbortSignal,
): Promise<void> {
  if (rate <= 0) return;
  const due = startedAt + (seq / rate) * 1000;
  const wait = due - clock();
  if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => {});
}
