import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import kafkajs from "kafkajs";
import { InfrastructureError } from "../errors.js";
import { encodeDrained } from "../history/reader.js";
import { identityOf, type Identity } from "./headers.js";

export interface DrainOptions {
  kafka: kafkajs.Kafka;
  bootstrap: string;
  runId: string;
  topic: string;
  groupId: string;
  file: string;
  readCommitted: boolean;
  /**
   * Reads a record's identity (default: its headers). A custom reader's records are all the
   * run's own: one without an identity is kept as unexpected, not counted foreign.
   */
  identify?: (m: kafkajs.KafkaMessage) => Identity;
  /** Give up when no partition made progress for this long. */
  idleTimeoutMs?: number;
}

export interface DrainStats {
  records: number;
  /** Records in the run's topic without this run's headers. */
  foreign: number;
  /** Records kept without an identity (producer and seq -1): unexpected. */
  unidentified: number;
  /** partition → the offset the drain read up to (a read_uncommitted drain: the high watermark) */
  ends: Map<number, number>;
}

/**
 * Reads the topic from the earliest offset up to the end offsets it had when the drain began,
 * over a direct (never proxied) connection, and writes one line per record to `file`.
 * The file is written under a temporary name and renamed only once the drain is complete.
 */
export async function drainTopic(opts: DrainOptions): Promise<DrainStats> {
  // Read uncommitted, the drain goes on past open transactions, to the high watermarks.
  const targets = opts.readCommitted
    ? await endOffsets(opts)
    : await highWatermarks(opts.kafka, opts.topic);
  const pending = new Set([...targets].filter(([, end]) => end > 0).map(([p]) => p));
  const tmp = `${opts.file}.partial`;
  const out = fs.createWriteStream(tmp);
  const stats: DrainStats = { records: 0, foreign: 0, unidentified: 0, ends: targets };
  const custom = opts.identify !== undefined;
  const identify = opts.identify ?? identityOf;
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    readUncommitted: !opts.readCommitted,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 250,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      if (pending.size === 0) return resolve();
      let lastProgress = Date.now();
      const idle = setInterval(() => {
        if (Date.now() - lastProgress > (opts.idleTimeoutMs ?? 30_000)) {
          clearInterval(idle);
          reject(
            new InfrastructureError(
              opts.bootstrap,
              `drain of ${opts.topic} stalled; partitions ${[...pending].join(",")} not read to the end`,
            ),
          );
        }
      }, 500);
      void consumer
        .run({
          eachBatch: async ({ batch }) => {
            const lines: string[] = [];
            for (const m of batch.messages) {
              const { runId, producer, seq } = identify(m);
              // Another run's record is foreign; one of this run with a malformed identity is
              // kept (producer or seq -1) so that the reconciler reports it as unexpected.
              if (runId !== opts.runId && !custom) stats.foreign += 1;
              else {
                const offset = Number(m.offset);
                if (producer === -1 && seq === -1) stats.unidentified += 1;
                lines.push(encodeDrained({ partition: batch.partition, offset, producer, seq }));
              }
            }
            stats.records += lines.length;
            if (lines.length > 0) out.write(`${lines.join("\n")}\n`);
          },
        })
        .catch(reject);
      // Fired after every fetched batch, also one of only aborted records and markers, which
      // never reaches eachBatch: that is how a partition ending in an aborted transaction ends.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const p = payload as { partition: number; lastOffset: string };
        lastProgress = Date.now();
        if (Number(p.lastOffset) >= (targets.get(p.partition) ?? 0) - 1)
          pending.delete(p.partition);
        if (pending.size === 0) {
          clearInterval(idle);
          resolve();
        }
      });
    });
  } finally {
    await consumer.disconnect().catch(() => {});
    await new Promise<void>((resolve) => out.end(resolve));
  }
  fs.renameSync(tmp, opts.file);
  return stats;
}

/**
 * The topic's end offsets. Leadership may still be moving when the drain starts (a broker fault
 * just healed, the preferred leader taking its partitions back): a retriable error is tried
 * again, each time with a new admin client, whose metadata is fresh.
 */
function endOffsets(opts: DrainOptions): Promise<Map<number, number>> {
  return topicEndOffsets(opts.kafka, opts.topic);
}

/**
 * partition → end offset, riding out a leader change (see endOffsets). kafkajs's admin lists
 * offsets read_committed: this is the last stable offset, which an open transaction holds back.
 */
export async function topicEndOffsets(
  kafka: kafkajs.Kafka,
  topic: string,
): Promise<Map<number, number>> {
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= END_OFFSET_ATTEMPTS) throw err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(1000);
  }
}

const END_OFFSET_ATTEMPTS = 15;

/**
 * Waits until no transaction is open on the topic: every partition's last stable offset has
 * reached `high` (the high watermarks a read_uncommitted drain saw). A transaction left open by
 * a killed producer whose id nobody reuses ends only when the coordinator aborts it, after its
 * transaction.timeout.ms; a read_committed drain before that would stop at it. Returns the
 * partitions still held back after `timeoutMs` (empty when none).
 */
export async function waitTransactionsClosed(
  kafka: kafkajs.Kafka,
  topic: string,
  high: Map<number, number>,
  timeoutMs: number,
): Promise<{ partition: number; stable: number; high: number }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stable = await topicEndOffsets(kafka, topic);
    const held = [...high]
      .filter(([p, h]) => (stable.get(p) ?? 0) < h)
      .map(([partition, h]) => ({ partition, stable: stable.get(partition) ?? 0, high: h }));
    if (held.length === 0 || Date.now() > deadline) return held;
    await sleep(500);
  }
}

const READ_UNCOMMITTED = 0;
const CREATE_CLUSTER = "private:Kafka:createCluster";

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ partitions: { partition: number; offset: string }[] }[]>;
}

/**
 * partition → high watermark. kafkajs's admin lists offsets read_committed only (the last
 * stable offsets), so this asks through a kafkajs cluster made read_uncommitted (kafkajs 2.2.4
 * is its last release: its private factory stays as it is).
 */
export async function highWatermarks(
  kafka: kafkajs.Kafka,
  topic: string,
): Promise<Map<number, number>> {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  if (!symbol) throw new Error("kafkajs: no cluster factory (a kafkajs other than 2.2.x?)");
  const create = (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[symbol]!;
  for (let attempt = 1; ; attempt++) {
    const cluster = create({ isolationLevel: READ_UNCOMMITTED });
    try {
      await cluster.connect();
      await cluster.addTargetTopic(topic);
      await cluster.refreshMetadata();
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => ({ partition: p.partitionId }));
      const [found] = await cluster.fetchTopicsOffset([
        { topic, fromBeginning: false, partitions },
      ]);
      return new Map((found?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= END_OFFSET_ATTEMPTS) throw err;
    } finally {
      await cluster.disconnect().catch(() => {});
    }
    await sleep(1000);
  }
}
