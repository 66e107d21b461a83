import { setTimeout as sleep } from "node:timers/promises";
import type kafkajs from "kafkajs";
import { rawCluster, READ_UNCOMMITTED } from "../clients/kafkajs.js";
import type { Connection } from "../clients/connection.js";
import { assignedConsumer, connect, disconnect } from "../clients/librdkafka.js";

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

export async function highWatermarks(
  kafka: kafkajs.Kafka,
  topic: string,
): Promise<Map<number, number>> {
  for (let attempt = 1; ; attempt++) {
    const cluster = rawCluster(kafka, READ_UNCOMMITTED);
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

/**
 * Whether the reader of record reaches the cluster (librdkafka, the run's TLS/SASL): checked
 * before a run makes anything, so a reader that cannot connect fails the run at once, not after
 * the workload. Undefined when it does; else what went wrong.
 */
export async function readerProblem(
  bootstrap: string,
  connection: Connection | undefined,
): Promise<string | undefined> {
  const consumer = assignedConsumer(bootstrap, connection, {});
  try {
    await connect(consumer, 10_000);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await disconnect(consumer);
  }
}

/**
 * Waits until every partition's high watermark has passed the acknowledged offsets (`acked`:
 * partition → one past the last acked batch's base offset). A leader acknowledges acks=1 writes
 * before its followers have them, and consumers see nothing above the high watermark: right
 * after a fault a follower may not fetch for a while, until the leader drops it from the ISR
 * (replica.lag.time.max.ms). Acked but not yet visible is not lost; the drain must not run
 * before that is settled. Returns the partitions still below after `timeoutMs` and how long it
 * waited.
 */
export async function waitAckedVisible(
  kafka: kafkajs.Kafka,
  topic: string,
  acked: ReadonlyMap<number, number>,
  timeoutMs: number,
): Promise<{ waitedMs: number; held: { partition: number; high: number; acked: number }[] }> {
  const started = Date.now();
  for (;;) {
    const high = await highWatermarks(kafka, topic);
    const held = [...acked]
      .filter(([p, end]) => (high.get(p) ?? 0) < end)
      .map(([partition, end]) => ({ partition, high: high.get(partition) ?? 0, acked: end }));
    const waitedMs = Date.now() - started;
    if (held.length === 0 || waitedMs > timeoutMs) return { waitedMs, held };
    await sleep(250);
  }
}
