import rdkafka from "@confluentinc/kafka-javascript";
import type { KafkaJS } from "@confluentinc/kafka-javascript";
import type { Connection } from "../clients/connection.js";
import { FETCH_QUEUE_BACKOFF_MS, LIBRDKAFKA, rdkafkaConfig } from "../clients/librdkafka.js";
import { writtenOf } from "./engine.js";
import type {
  ConsumerHandlers,
  EngineProducer,
  EngineSettings,
  OutputRecord,
  ProcessorEngine,
} from "./engine.js";

const ASSIGN_PARTITIONS = -175;

/**
 * The processor on librdkafka (@confluentinc/kafka-javascript, its KafkaJS-style API). It has
 * no socket factory: it reaches the run's proxies through broker listeners advertised at them,
 * so `brokers` is either the proxies of those listeners or the cluster itself.
 */
export function librdkafkaEngine(
  s: EngineSettings,
  connection: Connection | undefined,
): ProcessorEngine {
  const common = {
    ...rdkafkaConfig(s.brokers.join(","), connection),
    "client.id": s.clientId,
    "socket.timeout.ms": Math.max(s.requestTimeoutMs, 10_000),
  };
  const kafka = new rdkafka.KafkaJS.Kafka(common as KafkaJS.CommonConstructorConfig);
  let handlers: ConsumerHandlers | undefined;
  const consumer = kafka.consumer({
    "group.id": s.groupId,
    // librdkafka's own errors only (the KafkaJS-style layer logs at INFO by default)
    log_level: 3,
    "isolation.level": s.readCommitted ? "read_committed" : "read_uncommitted",
    "enable.auto.commit": s.autoCommitIntervalMs !== null,
    ...(s.autoCommitIntervalMs !== null
      ? { "auto.commit.interval.ms": s.autoCommitIntervalMs }
      : {}),
    "auto.offset.reset": "earliest",
    "session.timeout.ms": s.sessionTimeoutMs,
    "heartbeat.interval.ms": s.heartbeatIntervalMs,
    "fetch.wait.max.ms": 250,
    "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
    "js.consumer.max.batch.size": s.batchSize,
    rebalance_cb: (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
      if (err.code !== ASSIGN_PARTITIONS) return;
      handlers?.onJoin(assignment.filter((a) => a.topic === s.inputTopic).map((a) => a.partition));
    },
  } as KafkaJS.ConsumerConstructorConfig);
  const producers: KafkaJS.Producer[] = [];
  return {
    name: LIBRDKAFKA,
    async run(h) {
      handlers = h;
      await consumer.connect();
      await consumer.subscribe({ topics: [s.inputTopic] });
      await consumer.run({
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          await h.eachBatch({
            partition: batch.partition,
            messages: batch.messages as never,
            resolveOffset,
            heartbeat,
            isRunning,
            isStale,
          });
          const last = batch.messages[batch.messages.length - 1];
          if (last) h.onBatchEnd(batch.partition, Number(last.offset));
        },
      });
    },
    commitOffset: (partition, offset) =>
      consumer.commitOffsets([{ topic: s.inputTopic, partition, offset }]),
    seek: (partition, offset) =>
      consumer.seek({ topic: s.inputTopic, partition, offset: String(offset) }),
    async producer(transactional) {
      const producer = kafka.producer({
        log_level: 3,
        "enable.idempotence": transactional,
        acks: -1,
        "linger.ms": 5,
        "message.timeout.ms": 30_000,
        ...(transactional ? { "transactional.id": s.transactionalId } : {}),
      } as KafkaJS.ProducerConstructorConfig);
      producers.push(producer);
      await producer.connect(); // a transactional producer's connect registers its id
      return wrapProducer(producer, consumer);
    },
    async disconnect() {
      await consumer.disconnect().catch(() => {});
      for (const p of producers) await p.disconnect().catch(() => {});
    },
  };
}

function wrapProducer(producer: KafkaJS.Producer, consumer: KafkaJS.Consumer): EngineProducer {
  const send = async (topic: string, records: OutputRecord[]) =>
    writtenOf(await producer.send({ topic, messages: messages(records) }));
  return {
    send,
    async transaction() {
      await producer.transaction();
      return {
        send,
        sendOffsets: (topic, partition, offset) =>
          producer.sendOffsets({
            consumer,
            topics: [{ topic, partitions: [{ partition, offset }] }],
          }),
        commit: () => producer.commit(),
        abort: () => producer.abort(),
      };
    },
    disconnect: () => producer.disconnect(),
  };
}

/** Copies: the KafkaJS-style layer rewrites the records it is given (headers, timestamp). */
function messages(records: OutputRecord[]) {
  return records.map((r) => ({ ...r }));
}
