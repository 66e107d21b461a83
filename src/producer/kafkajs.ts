import kafkajs from "kafkajs";
import { setTimeout as sleep } from "node:timers/promises";
import type { SendCompleted } from "../history/events.js";
import { ackedPartitions, type PartitionPlan } from "./batches.js";
import { initTransactions } from "../clients/kafkajs.js";
import {
  classifySendError,
  describeError,
  misconfigurationOf,
  type Misconfiguration,
} from "./outcome.js";
import type { Fate, InDoubt } from "../reader/fate.js";
import type { Batch, ProducerOptions } from "./producer.js";
import { retryAborted } from "./retry.js";
import type { Outcome } from "../history/events.js";

/** How long a transaction whose commit failed is worked on before it counts as unknown. */
const RESOLVE_MS = 60_000;
const RESOLVE_RETRY_MS = 1000;

export interface SendResult {
  outcome: Outcome;
  detail: Pick<SendCompleted, "offsets" | "error" | "resolved" | "unconfirmed">;
  /** the send was refused for a reason no retry fixes */
  misconfiguration?: Misconfiguration;
}

/**
 * One kafkajs producer (transactional or not). An idempotent producer that failed is replaced:
 * its sequence state is no longer trustworthy, and the new one gets a new PID.
 */
export class ProducerClient {
  private producer?: kafkajs.Producer;

  constructor(
    private readonly opts: ProducerOptions,
    private readonly plan: PartitionPlan,
  ) {}

  private record(messages: kafkajs.Message[]): kafkajs.ProducerRecord {
    const { settings, topic } = this.opts;
    return {
      topic,
      messages,
      acks: settings.acks,
      compression:
        settings.compression === "gzip"
          ? kafkajs.CompressionTypes.GZIP
          : kafkajs.CompressionTypes.None,
    };
  }

  async send(from: number, to: number, messages: kafkajs.Message[]): Promise<SendResult> {
    const { settings } = this.opts;
    const record = this.record(messages);
    const partitions = this.plan.partitionsOf(from, to).length;
    let producer: kafkajs.Producer;
    try {
      producer = await this.connected();
    } catch (err) {
      // Not connected: no record of this batch left the client.
      return refused(err, { partitions, beforeSend: true });
    }
    if (settings.idempotent) return this.sendIdempotently(producer, from, to, record);
    try {
      const meta = await producer.send(record);
      return this.acknowledged(from, to, meta);
    } catch (err) {
      // Unknown unless the error proves that nothing of the batch was stored (outcome.ts).
      return refused(err, { partitions });
    }
  }

  /**
   * One send per partition (see eachPartition): partitions acknowledged are ok, the others
   * unknown (unconfirmed), the whole batch refused only when every partition's send threw.
   */
  private async sendIdempotently(
    producer: kafkajs.Producer,
    from: number,
    to: number,
    record: kafkajs.ProducerRecord,
  ): Promise<SendResult> {
    const { meta, errors } = await eachPartition(record, (r) => producer.send(r));
    if (errors.length === 0) return this.acknowledged(from, to, meta);
    await this.discard();
    const partitions = this.plan.partitionsOf(from, to).length;
    if (meta.length === 0) return refused(errors[0], { partitions });
    const acked = this.acknowledged(from, to, meta);
    return { ...acked, detail: { ...acked.detail, error: describeError(errors[0]) } };
  }

  /**
   * ok, backed partition by partition: kafkajs can resolve send() without a produce response for
   * some partitions (tulios/kafkajs#1303, when a leader dies between retries); their records
   * are marked unconfirmed and count as unknown. acks=0 has no response to check.
   */
  private acknowledged(from: number, to: number, meta: kafkajs.RecordMetadata[]): SendResult {
    const offsets = offsetsOf(meta);
    const unconfirmed =
      this.opts.settings.acks === 0
        ? undefined
        : this.plan.unconfirmed(from, to, ackedPartitions(meta));
    return {
      outcome: "ok",
      detail: { ...(offsets ? { offsets } : {}), ...(unconfirmed ? { unconfirmed } : {}) },
    };
  }

  async close(): Promise<void> {
    await this.discard();
  }

  sendTransactionally(batches: Batch[], more: () => Promise<Batch | undefined>) {
    return retryAborted(this.opts, (next) => this.attemptTransaction(batches, next), more);
  }

  private async attemptTransaction(
    batches: Batch[],
    more: () => Promise<Batch | undefined>,
  ): Promise<SendResult[]> {
    const metas: kafkajs.RecordMetadata[][] = [];
    let tx: kafkajs.Transaction | undefined;
    const all = (result: SendResult) => batches.map(() => result);
    try {
      tx = await (await this.connected()).transaction();
      const open = tx;
      const sendOne = async (batch: Batch) => {
        const sent = await eachPartition(this.record(batch.messages), (r) => open.send(r));
        if (sent.errors.length > 0) throw sent.errors[0];
        metas.push(sent.meta);
      };
      for (const batch of batches) await sendOne(batch);
      for (let batch = await more(); batch; batch = await more()) await sendOne(batch);
    } catch (err) {
      await tx?.abort().catch(() => {});
      await this.discard();
      // No commit was sent: the records can never become visible to a read_committed reader.
      const misconfiguration = misconfigurationOf(err);
      return all({
        outcome: "fail",
        detail: { error: describeError(err) },
        ...(misconfiguration ? { misconfiguration } : {}),
      });
    }
    // kafkajs can resolve a send without every partition's acknowledgement (see acknowledged):
    // committing would make the transaction visible without those records. Abort and retry.
    for (const [i, batch] of batches.entries()) {
      const missing = this.plan.unconfirmed(batch.from, batch.to, ackedPartitions(metas[i]!));
      if (!missing) continue;
      await tx.abort().catch(() => {});
      await this.discard();
      const error = `the send of ${batch.from}…${batch.to} resolved without an acknowledgement for partition(s) ${missing.partitions.join(", ")}; the transaction was aborted, not committed`;
      return all({ outcome: "fail", detail: { error } });
    }
    try {
      await tx.commit();
      return batches.map((b, i) => this.acknowledged(b.from, b.to, metas[i]!));
    } catch (err) {
      await this.discard();
      return this.resolveCommit(batches, metas, describeError(err));
    }
  }

  /**
   * Whether a transaction whose commit failed committed (see finishAndLook), told by its first
   * batch: a transaction commits or aborts as a whole.
   */
  private async resolveCommit(
    batches: Batch[],
    metas: kafkajs.RecordMetadata[][],
    error: string,
  ): Promise<SendResult[]> {
    const unknown = () =>
      batches.map((_, i): SendResult => {
        const offsets = offsetsOf(metas[i]!);
        return { outcome: "unknown", detail: { ...(offsets ? { offsets } : {}), error } };
      });
    const offsets = offsetsOf(metas[0]!);
    const resolve = this.opts.resolveInDoubt;
    if (!offsets || !resolve) return unknown();
    // A coordinator that is paused, moving or electing answers nothing for a while: keep
    // trying to finish the transaction and look, within RESOLVE_MS, before calling it unknown.
    const deadline = Date.now() + RESOLVE_MS;
    const doubt = {
      topic: this.opts.topic,
      offsets,
      runId: this.opts.runId,
      producer: this.opts.producerId,
      from: batches[0]!.from,
    };
    for (;;) {
      const fate = await this.finishAndLook(doubt, resolve);
      if (fate === "committed") {
        return batches.map((b, i) => {
          const acked = this.acknowledged(b.from, b.to, metas[i]!);
          return { ...acked, detail: { ...acked.detail, resolved: fate } };
        });
      }
      if (fate === "aborted") {
        return batches.map(() => ({ outcome: "fail", detail: { error, resolved: fate } }));
      }
      if (Date.now() > deadline || this.opts.signal.aborted) break;
      await sleep(RESOLVE_RETRY_MS);
    }
    return unknown();
  }

  /** A new producer with the same transactional id finishes the old transaction; then look. */
  private async finishAndLook(
    doubt: InDoubt,
    resolve: (doubt: InDoubt) => Promise<Fate>,
  ): Promise<Fate> {
    try {
      await initTransactions(await this.connected());
    } catch {
      await this.discard();
      return undefined;
    }
    return resolve(doubt);
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
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => {});
      throw err;
    }
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

/** A send that threw, classified (outcome.ts). */
function refused(err: unknown, ctx: Parameters<typeof classifySendError>[1]): SendResult {
  const { outcome, misconfiguration } = classifySendError(err, ctx);
  return {
    outcome,
    detail: { error: describeError(err) },
    ...(misconfiguration ? { misconfiguration } : {}),
  };
}

/**
 * A batch sent as one send() per partition, all at once. kafkajs keeps the responses of a
 * multi-partition send per broker and, on a retry after a leader change, recomputes which
 * broker leads each partition: a partition that moved to a broker that already answered is
 * never sent (tulios/kafkajs#1303), and one that moved to a broker without an answer yet is
 * sent again with a new sequence number, which the broker cannot deduplicate — two committed
 * copies from an idempotent or transactional producer. With one partition per send, a retry
 * only ever resends that partition, with its own sequence.
 */
async function eachPartition(
  record: kafkajs.ProducerRecord,
  send: (record: kafkajs.ProducerRecord) => Promise<kafkajs.RecordMetadata[]>,
): Promise<{ meta: kafkajs.RecordMetadata[]; errors: unknown[] }> {
  const groups = new Map<number, kafkajs.Message[]>();
  for (const m of record.messages) {
    const partition = m.partition ?? -1;
    const group = groups.get(partition) ?? [];
    group.push(m);
    groups.set(partition, group);
  }
  const settled = await Promise.allSettled(
    [...groups.values()].map((messages) => send({ ...record, messages })),
  );
  const meta: kafkajs.RecordMetadata[] = [];
  const errors: unknown[] = [];
  for (const s of settled) {
    if (s.status === "fulfilled") meta.push(...s.value);
    else errors.push(s.reason);
  }
  return { meta, errors };
}
