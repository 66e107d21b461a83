import rdkafka, { type LibrdKafkaError, type Producer } from "@confluentinc/kafka-javascript";
import { setTimeout as sleep } from "node:timers/promises";
import { rdkafkaConfig, type RdConfig } from "../clients/librdkafka.js";
import type { SendResult } from "./kafkajs.js";
import type { Batch, OutgoingMessage, ProducerOptions } from "./producer.js";
import { retryAborted } from "./retry.js";
import { BatchReports, offsetsOf, outcomeOf, rdText, type Tally } from "./deliveries.js";
import { HEADER_SEQ } from "../identity/headers.js";

const QUEUE_FULL = -184;
/** librdkafka refuses its configuration (one inconsistent with another, an invalid value). */
const BAD_CONFIG = new Set([-172, -186]);
const TRANSACTION_MS = 60_000;
const INIT_MS = 10_000;

/**
 * The producer on librdkafka (the callback API: produce() per record, a delivery report for
 * each). Every record's own report decides its outcome, so a batch is never ok for a record
 * the broker did not acknowledge. A transaction is librdkafka's (init, begin, commit or abort);
 * one whose commit failed in doubt is finished by a new producer with the same transactional id
 * and then looked up by the reader of record (resolveInDoubt), never retried blindly.
 */
export class RdProducerClient {
  private producer?: Producer;
  /** batches produced, some delivery reports still owed, oldest first */
  private readonly owed: { first: number; reports: BatchReports }[] = [];
  /** records produced so far: the next record's opaque */
  private produced = 0;
  private readonly wire = new WireCache();

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
    if (deliveries.failed.some((f) => f.error.isFatal)) await this.discard();
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
    const sent: Tally[] = [];
    const sendOne = async (batch: Batch) =>
      sent.push(await this.produceAll(producer, batch.from, batch.messages));
    for (const batch of batches) await sendOne(batch);
    for (let batch = await more(); batch; batch = await more()) await sendOne(batch);
    const failed = sent.find((t) => t.failed.length > 0)?.failed[0];
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
    sent: Tally[],
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

  /**
   * Produces the batch's records and waits for every delivery report. A record's opaque is a
   * number, its place among this producer's records, so a report costs no allocation here; its
   * batch is found among the few whose reports are still owed.
   */
  private async produceAll(
    producer: Producer,
    from: number,
    messages: OutgoingMessage[],
  ): Promise<Tally> {
    const first = this.produced;
    const batch = new BatchReports(
      from,
      messages.map((m) => m.partition),
    );
    this.produced += messages.length;
    this.owed.push({ first, reports: batch });
    for (let i = 0; i < messages.length; i += 1) {
      const m = messages[i]!;
      const headers = this.wire.headers(m.headers);
      const key = m.key === null ? null : this.wire.bytes(m.key);
      for (;;) {
        try {
          producer.produce(this.opts.topic, m.partition, m.value, key, null, first + i, headers);
          break;
        } catch (err) {
          if ((err as LibrdKafkaError).code !== QUEUE_FULL) {
            this.deliver(first + i, err as LibrdKafkaError);
            break;
          }
          await sleep(5);
        }
      }
    }
    return batch.done;
  }

  private deliver(id: number, error: LibrdKafkaError | null | undefined, offset?: number): void {
    const at = this.owed.findIndex((o) => id >= o.first && id < o.first + o.reports.count);
    if (at < 0) return;
    const { first, reports } = this.owed[at]!;
    if (reports.report(id - first, error, offset)) this.owed.splice(at, 1);
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = new rdkafka.Producer(this.config());
    producer.on("delivery-report", (err, report) =>
      this.deliver(report.opaque as number, err, report.offset),
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
    for (const { reports } of this.owed.splice(0)) reports.abandon(discarded());
    await new Promise<void>((resolve) => producer.disconnect(INIT_MS, () => resolve()));
  }
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

function discarded(): LibrdKafkaError {
  return {
    message: "producer discarded before the record's delivery report",
    code: -1,
    errno: -1,
    origin: "kafka-chaos",
  };
}

/**
 * Keys and header values as Buffers, made once per distinct text: the binding takes a Buffer as
 * it is, while a string is converted and copied twice for every record. A run's keys and its
 * run and producer headers repeat; only the seq header is new for each record.
 */
class WireCache {
  private readonly cache = new Map<string, Buffer>();
  private readonly entries = new Map<string, Map<string, Record<string, Buffer>>>();

  bytes(text: string): Buffer {
    let b = this.cache.get(text);
    if (!b) {
      if (this.cache.size > 100_000) this.cache.clear();
      b = Buffer.from(text);
      this.cache.set(text, b);
    }
    return b;
  }

  /** The headers as the binding takes them: a list of one-key objects, repeated ones shared. */
  headers(h: Record<string, string>): Record<string, Buffer | string>[] {
    const out: Record<string, Buffer | string>[] = [];
    for (const k in h) {
      const v = h[k]!;
      if (k === HEADER_SEQ) {
        out.push({ [k]: v });
        continue;
      }
      let byValue = this.entries.get(k);
      if (!byValue) this.entries.set(k, (byValue = new Map()));
      let entry = byValue.get(v);
      if (!entry) {
        if (byValue.size > 1000) byValue.clear();
        byValue.set(v, (entry = { [k]: this.bytes(v) }));
      }
      out.push(entry);
    }
    return out;
  }
}
