import kafkajs from "kafkajs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Outcome, SendCompleted } from "../history/events.js";
import type { HistoryWriter } from "../history/writer.js";
import type { Profile } from "../profiles/schema.js";

import { initTransactions } from "./client.js";
import { HEADER_PRODUCER, HEADER_RUN, HEADER_SEQ } from "./headers.js";
import type { Fate, InDoubt } from "./resolve.js";

export interface Progress {
  sent: number;
  acked: number;
  failed: number;
  unknown: number;
}

export interface ProducerOptions {
  kafka: kafkajs.Kafka;
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
}

/**
 * Sends the producer's messages in batches, one send at a time, recording invoke → ok/fail/unknown
 * for each batch. Sends are not overlapped: concurrent send() calls may be reordered inside the
 * client, which would show up as "reordered" without any fault. Use more producers for load.
 */
export async function runProducer(opts: ProducerOptions): Promise<void> {
  const client = new ProducerClient(opts);
  const payload = Buffer.alloc(opts.workload.messageSize, "x");
  const startedAt = opts.clock();
  try {
    for (
      let from = 0;
      from < opts.messages && !opts.signal.aborted;
      from += opts.settings.batchSize
    ) {
      const to = Math.min(from + opts.settings.batchSize, opts.messages) - 1;
      await pace(opts.workload.rate, from, startedAt, opts.clock, opts.signal);
      if (opts.signal.aborted) break;
      await sendBatch(opts, client, from, to, payload);
    }
  } finally {
    await client.close();
  }
}

async function sendBatch(
  opts: ProducerOptions,
  client: ProducerClient,
  from: number,
  to: number,
  payload: Buffer,
): Promise<void> {
  const { history, producerId: producer } = opts;
  history.append({ type: "invoke", producer, from, to, time: opts.clock() });
  // The invoke is on disk before any byte of the batch can reach the broker.
  await history.flush();
  opts.progress.sent += to - from + 1;
  const messages = buildMessages(opts, from, to, payload);
  const result = await client.send(from, messages);
  history.append({
    type: result.outcome,
    producer,
    from,
    to,
    time: opts.clock(),
    ...result.detail,
  });
  count(opts.progress, result.outcome, to - from + 1);
}

function buildMessages(
  opts: ProducerOptions,
  from: number,
  to: number,
  payload: Buffer,
): kafkajs.Message[] {
  const keys = opts.workload.keys;
  const producer = String(opts.producerId);
  const messages: kafkajs.Message[] = new Array(to - from + 1);
  for (let seq = from; seq <= to; seq += 1) {
    messages[seq - from] = {
      key: keys > 0 ? `k${seq % keys}` : null,
      value: payload,
      headers: { [HEADER_RUN]: opts.runId, [HEADER_PRODUCER]: producer, [HEADER_SEQ]: String(seq) },
    };
  }
  return messages;
}

interface SendResult {
  outcome: Outcome;
  detail: Pick<SendCompleted, "offsets" | "error" | "resolved">;
}

/**
 * One kafkajs producer (transactional or not). An idempotent producer that failed is replaced:
 * its sequence state is no longer trustworthy, and the new one gets a new PID.
 */
class ProducerClient {
  private producer?: kafkajs.Producer;

  constructor(private readonly opts: ProducerOptions) {}

  async send(from: number, messages: kafkajs.Message[]): Promise<SendResult> {
    const { settings, topic } = this.opts;
    const record = {
      topic,
      messages,
      acks: settings.acks,
      compression:
        settings.compression === "gzip"
          ? kafkajs.CompressionTypes.GZIP
          : kafkajs.CompressionTypes.None,
    };
    if (this.opts.transactionalId) return this.sendTransactionally(from, record);
    let producer: kafkajs.Producer | undefined;
    try {
      producer = await this.connected();
      const meta = await producer.send(record);
      return { outcome: "ok", detail: { offsets: offsetsOf(meta) } };
    } catch (err) {
      if (settings.idempotent && producer) await this.discard();
      // A send that errored may still have been written (lost ack, partial batch): unknown.
      return { outcome: "unknown", detail: { error: errorText(err) } };
    }
  }

  async close(): Promise<void> {
    await this.discard();
  }

  /**
   * As an exactly-once application does: a transaction known to be aborted is retried (up to
   * `retries` times); one whose commit failed is resolved first, never blindly retried.
   */
  private async sendTransactionally(
    from: number,
    record: kafkajs.ProducerRecord,
  ): Promise<SendResult> {
    let result = await this.attemptTransaction(from, record);
    for (
      let retry = 0;
      result.outcome === "fail" && retry < this.opts.settings.retries;
      retry += 1
    ) {
      if (this.opts.signal.aborted) break;
      await sleep(this.opts.settings.retryBackoffMs);
      result = await this.attemptTransaction(from, record);
    }
    return result;
  }

  private async attemptTransaction(
    from: number,
    record: kafkajs.ProducerRecord,
  ): Promise<SendResult> {
    let meta: kafkajs.RecordMetadata[];
    let tx: kafkajs.Transaction | undefined;
    try {
      tx = await (await this.connected()).transaction();
      meta = await tx.send(record);
    } catch (err) {
      await tx?.abort().catch(() => {});
      await this.discard();
      // No commit was sent: the records can never become visible to a read_committed reader.
      return { outcome: "fail", detail: { error: errorText(err) } };
    }
    try {
      await tx.commit();
      return { outcome: "ok", detail: { offsets: offsetsOf(meta) } };
    } catch (err) {
      await this.discard();
      return this.resolveCommit(from, meta, errorText(err));
    }
  }

  /** A new producer with the same transactional id finishes the old transaction; then look. */
  private async resolveCommit(
    from: number,
    meta: kafkajs.RecordMetadata[],
    error: string,
  ): Promise<SendResult> {
    const offsets = offsetsOf(meta);
    const resolve = this.opts.resolveInDoubt;
    if (!offsets || !resolve) return { outcome: "unknown", detail: { error } };
    try {
      await initTransactions(await this.connected());
    } catch {
      return { outcome: "unknown", detail: { offsets, error } };
    }
    const fate = await resolve({
      topic: this.opts.topic,
      offsets,
      runId: this.opts.runId,
      producer: this.opts.producerId,
      from,
    });
    if (fate === "committed") return { outcome: "ok", detail: { offsets, resolved: fate } };
    if (fate === "aborted") return { outcome: "fail", detail: { error, resolved: fate } };
    return { outcome: "unknown", detail: { offsets, error } };
  }

  private async connected(): Promise<kafkajs.Producer> {
    if (this.producer) return this.producer;
    const { settings, kafka, transactionalId } = this.opts;
    const producer = kafka.producer({
      idempotent: settings.idempotent,
      transactionalId,
      maxInFlightRequests: settings.maxInFlight,
      allowAutoTopicCreation: false,
      retry: {
        retries: settings.retries,
        initialRetryTime: settings.retryBackoffMs,
        maxRetryTime: Math.max(settings.retryBackoffMs, 1000),
      },
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async discard(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => {});
  }
}

function offsetsOf(meta: kafkajs.RecordMetadata[]): Record<string, string> | undefined {
  const offsets: Record<string, string> = {};
  for (const m of meta) if (m.baseOffset !== undefined) offsets[m.partition] = m.baseOffset;
  return Object.keys(offsets).length > 0 ? offsets : undefined;
}

function count(progress: Progress, outcome: Outcome, n: number): void {
  if (outcome === "ok") progress.acked += n;
  else if (outcome === "fail") progress.failed += n;
  else progress.unknown += n;
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

export function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string } };
  const cause = e.cause?.message ? ` (${e.cause.message})` : "";
  return `${e.name ?? "Error"}: ${e.message ?? String(err)}${cause}`;
}
