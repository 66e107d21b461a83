import rdkafka, { type LibrdKafkaError, type Producer } from "@confluentinc/kafka-javascript";
import { setTimeout as sleep } from "node:timers/promises";
import { rdkafkaConfig, type RdConfig } from "../clients/librdkafka.js";
import type { Unconfirmed } from "../history/events.js";
import type { SendResult } from "./kafkajs.js";
import type { Batch, OutgoingMessage, ProducerOptions } from "./producer.js";
import { retryAborted } from "./retry.js";

/** Broker and client refusals that prove nothing of a batch was stored. */
const NOT_STORED = new Set([
  10, // MSG_SIZE_TOO_LARGE
  18, // RECORD_LIST_TOO_LARGE
  21, // INVALID_REQUIRED_ACKS
  29, // TOPIC_AUTHORIZATION_FAILED
  -188, // _UNKNOWN_TOPIC
  -190, // _UNKNOWN_PARTITION
]);
const QUEUE_FULL = -184;
/** librdkafka refuses its configuration (one inconsistent with another, an invalid value). */
const BAD_CONFIG = new Set([-172, -186]);
const TRANSACTION_MS = 60_000;
const INIT_MS = 10_000;

/** One record's delivery report: its offset, or the error it failed with. */
export type Delivery = { seq: number; partition: number; offset?: number; error?: LibrdKafkaError };
type Owed = { resolve: (d: Delivery) => void; seq: number; partition: number };

/**
 * The producer on librdkafka (the callback API: produce() per record, a delivery report for
 * each). Every record's own report decides its outcome, so a batch is never ok for a record
 * the broker did not acknowledge. A transaction is librdkafka's (init, begin, commit or abort);
 * one whose commit failed in doubt is finished by a new producer with the same transactional id
 * and then looked up by the reader of record (resolveInDoubt), never retried blindly.
 */
export class RdProducerClient {
  private producer?: Producer;
  /** records produced, their delivery report still owed */
  private readonly waiting = new Map<object, Owed>();

  constructor(private readonly opts: ProducerOptions) {}

  async send(from: number, to: number, messages: OutgoingMessage[]): Promise<SendResult> {
    let producer: Producer;
    try {
      producer = await this.connected();
    } catch (err) {
      return refusedBeforeSend(err);
    }
    const deliveries = await this.produceAll(producer, from, messages);
    const result = outcomeOf(deliveries);
    if (deliveries.some((d) => d.error?.isFatal)) await this.discard();
    return result;
  }

  sendTransactionally(batches: Batch[], more: () => Promise<Batch | undefined>) {
    return retryAborted(this.opts, (next) => this.attemptTransaction(batches, next), more);
  }

  async close(): Promise<void> {
    await this.discard();
  }

  private async attemptTransaction(
    batches: Batch[],
    more: () => Promise<Batch | undefined>,
  ): Promise<SendResult[]> {
    const all = (result: SendResult) => batches.map(() => result);
    let producer: Producer;
    try {
      producer = await this.connected();
      await call((cb) => producer.beginTransaction(cb));
    } catch (err) {
      await this.discard();
      return all(refusedBeforeSend(err));
    }
    const sent: Delivery[][] = [];
    const sendOne = async (batch: Batch) =>
      sent.push(await this.produceAll(producer, batch.from, batch.messages));
    for (const batch of batches) await sendOne(batch);
    for (let batch = await more(); batch; batch = await more()) await sendOne(batch);
    const failed = sent.flat().find((d) => d.error);
    if (failed) {
      // No commit was sent: the records can never become visible to a read_committed reader.
      await call((cb) => producer.abortTransaction(INIT_MS, cb)).catch(() => this.discard());
      return all({ outcome: "fail", detail: { error: rdText(failed.error) } });
    }
    try {
      await call((cb) => producer.commitTransaction(this.opts.settings.requestTimeoutMs * 5, cb));
      return batches.map((_, i) => outcomeOf(sent[i]!));
    } catch (err) {
      if ((err as LibrdKafkaError).isTxnRequiresAbort) {
        await call((cb) => producer.abortTransaction(INIT_MS, cb)).catch(() => this.discard());
        return all({ outcome: "fail", detail: { error: rdText(err) } });
      }
      await this.discard();
      return this.resolveCommit(batches, sent, rdText(err));
    }
  }

  /** A commit in doubt: a new producer with the same id finishes it, then the reader looks. */
  private async resolveCommit(
    batches: Batch[],
    sent: Delivery[][],
    error: string,
  ): Promise<SendResult[]> {
    const offsets = sent.map(offsetsOf);
    const unknown = () =>
      batches.map((_, i): SendResult => {
        const o = offsets[i];
        return { outcome: "unknown", detail: { ...(o ? { offsets: o } : {}), error } };
      });
    const resolve = this.opts.resolveInDoubt;
    if (!offsets[0] || !resolve) return unknown();
    try {
      await this.connected();
    } catch {
      return unknown();
    }
    const fate = await resolve({
      topic: this.opts.topic,
      offsets: offsets[0],
      runId: this.opts.runId,
      producer: this.opts.producerId,
      from: batches[0]!.from,
    });
    if (fate === "committed") {
      return batches.map((_, i) => {
        const ok = outcomeOf(sent[i]!);
        return { ...ok, detail: { ...ok.detail, resolved: fate } };
      });
    }
    if (fate === "aborted")
      return batches.map(() => ({ outcome: "fail", detail: { error, resolved: fate } }));
    return unknown();
  }

  /** Produces the batch's records and waits for every delivery report. */
  private async produceAll(
    producer: Producer,
    from: number,
    messages: OutgoingMessage[],
  ): Promise<Delivery[]> {
    const reports = messages.map(
      (m, i) =>
        new Promise<Delivery>((resolve) => {
          const opaque = {};
          this.waiting.set(opaque, { resolve, seq: from + i, partition: m.partition });
          void this.produceOne(producer, m, opaque);
        }),
    );
    return Promise.all(reports);
  }

  private async produceOne(producer: Producer, m: OutgoingMessage, opaque: object): Promise<void> {
    const headers = Object.entries(m.headers).map(([k, v]) => ({ [k]: v }));
    for (;;) {
      try {
        producer.produce(this.opts.topic, m.partition, m.value, m.key, null, opaque, headers);
        return;
      } catch (err) {
        if ((err as LibrdKafkaError).code !== QUEUE_FULL) {
          this.deliver(opaque, { error: err as LibrdKafkaError });
          return;
        }
        await sleep(5);
      }
    }
  }

  private deliver(opaque: object, report: { offset?: number; error?: LibrdKafkaError }): void {
    const owed = this.waiting.get(opaque);
    if (!owed) return;
    this.waiting.delete(opaque);
    owed.resolve({ seq: owed.seq, partition: owed.partition, ...report });
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = new rdkafka.Producer(this.config());
    producer.on("delivery-report", (err, report) =>
      this.deliver(
        report.opaque as object,
        err ? { error: err } : { offset: Number(report.offset) },
      ),
    );
    await call((cb) => producer.connect({ timeout: INIT_MS }, (err) => cb(err as LibrdKafkaError)));
    producer.setPollInBackground(true);
    if (this.opts.transactionalId) {
      try {
        await call((cb) => producer.initTransactions(INIT_MS, cb));
      } catch (err) {
        producer.disconnect();
        throw err;
      }
    }
    this.producer = producer;
    return producer;
  }

  private config(): RdConfig {
    const s = this.opts.settings;
    const brokers = this.opts.brokers ?? [];
    return {
      ...rdkafkaConfig(brokers.join(","), this.opts.connection),
      "client.id": `${this.opts.runId}-producer-${this.opts.producerId}`,
      dr_cb: true,
      acks: s.acks,
      "enable.idempotence": s.idempotent,
      "max.in.flight.requests.per.connection": s.maxInFlight,
      "message.send.max.retries": s.retries,
      "retry.backoff.ms": s.retryBackoffMs,
      "request.timeout.ms": s.requestTimeoutMs,
      // Every retry gets its request timeout; librdkafka gives up on a record after this (at
      // most the transaction timeout, which librdkafka requires of a transactional producer).
      "message.timeout.ms": messageTimeoutMs(s),
      "linger.ms": 5,
      "batch.num.messages": 10_000,
      "compression.codec": s.compression === "gzip" ? "gzip" : "none",
      ...(this.opts.transactionalId
        ? {
            "transactional.id": this.opts.transactionalId,
            "transaction.timeout.ms": TRANSACTION_MS,
          }
        : {}),
    };
  }

  private async discard(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (!producer) return;
    // Reports still owed for records of a discarded producer: unknown.
    for (const [opaque] of this.waiting) this.deliver(opaque, { error: discarded() });
    await new Promise<void>((resolve) => producer.disconnect(INIT_MS, () => resolve()));
  }
}

/**
 * ok for the records the broker acknowledged; those that failed are unconfirmed (unknown),
 * the whole batch unknown when none got through, fail only when the error proves nothing
 * was stored.
 */
export function outcomeOf(deliveries: Delivery[]): SendResult {
  const failed = deliveries.filter((d) => d.error);
  const offsets = offsetsOf(deliveries);
  if (failed.length === 0) return { outcome: "ok", detail: offsets ? { offsets } : {} };
  const error = rdText(failed[0]!.error);
  if (failed.length === deliveries.length) {
    const stored = failed.some((d) => !NOT_STORED.has(d.error!.code));
    return { outcome: stored ? "unknown" : "fail", detail: { error } };
  }
  const unconfirmed: Unconfirmed = {
    partitions: [...new Set(failed.map((d) => d.partition))].sort((a, b) => a - b),
    seqs: seqRanges(failed.map((d) => d.seq)),
  };
  return { outcome: "ok", detail: { ...(offsets ? { offsets } : {}), unconfirmed, error } };
}

/** Longest a record may wait for its acknowledgement, retries included. */
export function messageTimeoutMs(s: {
  requestTimeoutMs: number;
  retries: number;
  retryBackoffMs: number;
}): number {
  const all = s.requestTimeoutMs * (s.retries + 1) + s.retryBackoffMs * s.retries;
  return Math.min(TRANSACTION_MS, Math.max(5000, all));
}

/**
 * Nothing left the client: fail. A configuration librdkafka refuses is refused for every send
 * alike, so the run stops on it (a misconfiguration of the tool's, exit 3) instead of sending on.
 */
function refusedBeforeSend(err: unknown): SendResult {
  const error = rdText(err);
  const code = (err as Partial<LibrdKafkaError>).code;
  if (code === undefined || !BAD_CONFIG.has(code)) return { outcome: "fail", detail: { error } };
  return {
    outcome: "fail",
    detail: { error },
    misconfiguration: {
      kind: "librdkafka configuration",
      meaning: error,
      fix: "the producer settings as librdkafka takes them (see the error); please report it",
      profileAtFault: false,
    },
  };
}

function call(run: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}

function offsetsOf(deliveries: Delivery[]): Record<string, string> | undefined {
  const offsets: Record<string, string> = {};
  for (const d of deliveries) {
    if (d.offset === undefined || d.offset < 0) continue;
    const known = offsets[d.partition];
    if (known === undefined || d.offset < Number(known)) offsets[d.partition] = String(d.offset);
  }
  return Object.keys(offsets).length > 0 ? offsets : undefined;
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

function rdText(err: unknown): string {
  const e = err as Partial<LibrdKafkaError>;
  const code = e.code === undefined ? "" : ` [${e.code}]`;
  return `LibrdKafkaError${code}: ${e.message ?? String(err)}`;
}

function discarded(): LibrdKafkaError {
  return {
    message: "producer discarded before the record's delivery report",
    code: -1,
    errno: -1,
    origin: "kafka-chaos",
  };
}
