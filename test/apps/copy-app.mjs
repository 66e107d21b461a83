// A small app under test for the integration tests: consumes the run's input and copies each
// record to the output topic with kafkajs, committing offsets after (or, APP_COMMIT=before,
// before) each batch. APP_HEADERS=drop writes the output without the identity headers.
// APP_EXIT_AT_ONCE=1 exits before it is ready.
import kafkajs from "kafkajs";

const env = process.env;
if (env.APP_EXIT_AT_ONCE) {
  console.error("copy-app: cannot start: configuration missing (on purpose)");
  process.exit(4);
}
const kafka = new kafkajs.Kafka({
  clientId: `copy-app-${env.KAFKA_CHAOS_INSTANCE}`,
  brokers: env.KAFKA_CHAOS_BOOTSTRAP.split(","),
  logLevel: kafkajs.logLevel.WARN,
  retry: { retries: 20 },
});
const consumer = kafka.consumer({
  groupId: env.KAFKA_CHAOS_GROUP_ID,
  sessionTimeout: 6000,
  heartbeatInterval: 1000,
  maxWaitTimeInMs: 250,
});
const producer = kafka.producer({ allowAutoTopicCreation: false });
// As a supervised service does: a consumer that gives up exits, and is started again.
consumer.on(consumer.events.CRASH, ({ payload }) => {
  if (!payload.restart) {
    console.error(`copy-app: consumer crashed: ${payload.error?.message}`);
    process.exit(1);
  }
});
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: env.KAFKA_CHAOS_INPUT_TOPIC, fromBeginning: true });
const before = env.APP_COMMIT === "before";
const dropHeaders = env.APP_HEADERS === "drop";
await consumer.run({
  autoCommit: false,
  eachBatch: async ({ batch }) => {
    const next = String(Number(batch.lastOffset()) + 1);
    const commit = () =>
      consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: next },
      ]);
    if (before) await commit();
    await producer.send({
      topic: env.KAFKA_CHAOS_OUTPUT_TOPIC,
      acks: -1,
      messages: batch.messages.map((m) => ({
        key: m.key,
        value: m.value,
        headers: dropHeaders ? {} : m.headers,
      })),
    });
    if (!before) await commit();
  },
});
console.log("copy-app: ready");
const stop = async () => {
  await consumer.disconnect().catch(() => {});
  await producer.disconnect().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
