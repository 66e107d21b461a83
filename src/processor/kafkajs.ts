import kafkajs from "kafkajs";
import { initTransactions, KAFKAJS, kafkaClient, type Route } from "../clients/kafkajs.js";
import type { Connection } from "../clients/connection.js";
import { ackedPartitions } from "../producer/batches.js";
import { writtenOf } from "./engine.js";
import type {
  ConsumerHandlers,
  EngineProducer,
  EngineSettings,
  ProcessorEngine,
} from "./engine.js";

/** The processor on kafkajs: every connection through the run's proxies by its socket factory. */
export function kafkajsEngine(
  s: EngineSettings,
  route: Route,
  connection: Connection | undefined,
): ProcessorEngine {
  const kafka = kafkaClient({
    clientId: s.clientId,
    brokers: s.brokers,
    route,
    requestTimeoutMs: s.requestTimeoutMs,
    retries: 10,
    connection,
  });
  const consumer = kafka.consumer({
    groupId: s.groupId,
    sessionTimeout: s.sessionTimeoutMs,
    heartbeatInterval: s.heartbeatIntervalMs,
    readUncommitted: !s.readCommitted,
    maxWaitTimeInMs: 250,
    retry: { retries: 10 },
  });
  const producers: kafkajs.Producer[] = [];
  return {
    name: KAFKAJS,
    async run(h: ConsumerHandlers) {
      const { GROUP_JOIN, END_BATCH_PROCESS, CRASH } = consumer.events;
      consumer.on(GROUP_JOIN, ({ payload }) =>
        h.onJoin(payload.memberAssignment[s.inputTopic] ?? []),
      );
      consumer.on(END_BATCH_PROCESS, ({ payload }) => {
        const p = payload as { partition: number; lastOffset: string };
        h.onBatchEnd(p.partition, Number(p.lastOffset));
      });
      consumer.on(CRASH, ({ payload }) => {
        const p = payload as { error: unknown; restart: boolean };
        if (!p.restart) h.onCrash(p.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topic: s.inputTopic, fromBeginning: true });
      await consumer.run({
        autoCommit: s.autoCommitIntervalMs !== null,
        autoCommitInterval: s.autoCommitIntervalMs,
        eachBatchAutoResolve: false,
        eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) =>
          h.eachBatch({
            partition: batch.partition,
            messages: batch.messages,
            resolveOffset,
            heartbeat,
            isRunning,
            isStale,
          }),
      });
    },
    commitOffset: (partition, offset) =>
      consumer.commitOffsets([{ topic: s.inputTopic, partition, offset }]),
    seek: (partition, offset) =>
      consumer.seek({ topic: s.inputTopic, partition, offset: String(offset) }),
    async producer(transactional) {
      const producer = kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: transactional,
        maxInFlightRequests: transactional ? 1 : 5,
        ...(transactional ? { transactionalId: s.transactionalId } : {}),
        retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      producers.push(producer);
      await producer.connect();
      if (transactional) await initTransactions(producer);
      return wrapProducer(producer, s.groupId);
    },
    async disconnect() {
      await consumer.disconnect().catch(() => {});
      for (const p of producers) await p.disconnect().catch(() => {});
    },
  };
}

function wrapProducer(producer: kafkajs.Producer, groupId: string): EngineProducer {
  return {
    send: async (topic, records) =>
      writtenOf(await producer.send({ topic, acks: -1, messages: records })),
    async transaction() {
      const tx = await producer.transaction();
      return {
        async send(topic, records) {
          const meta = await tx.send({ topic, messages: records });
          // kafkajs can resolve a send without the partition's acknowledgement: committing then
          // would commit the input offsets without the output.
          const missing = records.find((r) => !ackedPartitions(meta).has(r.partition));
          if (missing) {
            throw new Error(
              `the output send resolved without an acknowledgement for partition ${missing.partition}`,
            );
          }
          return writtenOf(meta);
        },
        sendOffsets: (topic, partition, offset) =>
          tx.sendOffsets({
            consumerGroupId: groupId,
            topics: [{ topic, partitions: [{ partition, offset }] }],
          }),
        commit: () => tx.commit(),
        abort: () => tx.abort(),
      };
    },
    disconnect: () => producer.disconnect(),
  };
}
