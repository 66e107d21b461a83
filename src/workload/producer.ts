import kafkajs from "kafkajs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Outcome } from "../history/events.js";
import type { HistoryWriter } from "../history/writer.js";
import type { Profile } from "../profiles/schema.js";

export const HEADER_RUN = "kc-run";
export const HEADER_PRODUCER = "kc-producer";
export const HEADER_SEQ = "kc-seq";

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
  const result = await client.send(messages);
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
  detail: { offsets?: Record<string, string>; error?: string };
}

/**
 * One kafkajs producer (transactional or not). An idempotent producer that failed is replaced:
 * its sequence state is no longer trustworthy, and the new one gets a new PID.
 */
class ProducerClient {
  private producer?: kafkajs.Producer;

  constructor(private readonly opts: ProducerOptions) {}

  async send(messages: kafkajs.Message[]): Promise<SendResult> {
    const { settings, topic } = this.opts;
    let producer: kafkajs.Producer | undefined;
    try {
      producer = await this.connected();
      const record = {
        topic,
        messages,
        acks: settings.acks,
        compression:
          settings.compression === "gzip"
            ? kafkajs.CompressionTypes.GZIP
            : kafkajs.CompressionTypes.None,
      };
      if (this.opts.transactionalId) return await this.sendTransactionally(producer, record);
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

  /** As an exactly-once application does: an aborted transaction is retried, up to `retries` times. */
  private async sendTransactionally(
    producer: kafkajs.Producer,
    record: kafkajs.ProducerRecord,
  ): Promise<SendResult> {
    let result = await sendInTransaction(producer, record);
    for (
      let retry = 0;
      result.outcome === "fail" && retry < this.opts.settings.retries;
      retry += 1
    ) {
      if (this.opts.signal.aborted) break;
      await sleep(this.opts.settings.retryBackoffMs);
      result = await sendInTransaction(producer, record);
    }
    return result;
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

async function sendInTransaction(
  producer: kafkajs.Producer,
  record: kafkajs.ProducerRecord,
): Promise<SendResult> {
  const tx = await producer.transaction();
  try {
    const meta = await tx.send(record);
    await tx.commit();
    return { outcome: "ok", detail: { offsets: offsetsOf(meta) } };
  } catch (err) {
    try {
      await tx.abort();
    } catch {
      return { outcome: "unknown", detail: { error: errorText(err) } };
    }
    // Aborted: a read_committed reader can never see these records.
    return { outcome: "fail", detail: { error: errorText(err) } };
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
