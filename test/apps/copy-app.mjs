// A small app under test for the integration tests (kafkajs): consumes the run's input and
// copies each batch to the output topic, or with KAFKA_CHAOS_SINK_URL set inserts one row per
// record ("<producer>:<seq>" in column id) into KAFKA_CHAOS_SINK_TABLE, committing the offsets
// after the write — or, APP_COMMIT=before, before it, with APP_GAP_MS between the two (the bug
// that loses records on a crash). APP_HEADERS=drop writes output without the identity headers;
// APP_EXIT_AT_ONCE=1 exits before it is ready.
import { setTimeout as sleep } from "node:timers/promises";
import kafkajs from "kafkajs";
import pg from "pg";

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
// As a supervised service does: a consumer that gives up exits, and is started again.
consumer.on(consumer.events.CRASH, ({ payload }) => {
  if (!payload.restart) {
    console.error(`copy-app: consumer crashed: ${payload.error?.message}`);
    process.exit(1);
  }
});
const db = env.KAFKA_CHAOS_SINK_URL ? new pg.Client(env.KAFKA_CHAOS_SINK_URL) : undefined;
const producer = db ? undefined : kafka.producer({ allowAutoTopicCreation: false });
await db?.connect();
await producer?.connect();
await consumer.connect();
await consumer.subscribe({ topic: env.KAFKA_CHAOS_INPUT_TOPIC, fromBeginning: true });
const before = env.APP_COMMIT === "before";
const gap = Number(env.APP_GAP_MS ?? 0);
const dropHeaders = env.APP_HEADERS === "drop";

function idOf(m) {
  const h = m.headers ?? {};
  return h["kc-producer"] && h["kc-seq"] ? `${h["kc-producer"]}:${h["kc-seq"]}` : "";
}

async function write(messages) {
  if (db) {
    const ids = messages.map(idOf);
    await db.query(`INSERT INTO ${env.KAFKA_CHAOS_SINK_TABLE} (id) SELECT unnest($1::text[])`, [
      ids,
    ]);
    return;
  }
  await producer.send({
    topic: env.KAFKA_CHAOS_OUTPUT_TOPIC,
    acks: -1,
    messages: messages.map((m) => ({
      key: m.key,
      value: m.value,
      headers: dropHeaders ? {} : m.headers,
    })),
  });
}

await consumer.run({
  autoCommit: false,
  eachBatch: async ({ batch }) => {
    const next = String(Number(batch.lastOffset()) + 1);
    const commit = () =>
      consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    if (before) {
      await commit();
      await sleep(gap);
    }
    await write(batch.messages);
    if (!before) await commit();
  },
});
console.log("copy-app: ready");
const stop = async () => {
  await consumer.disconnect().catch(() => {});
  await producer?.disconnect().catch(() => {});
  await db?.end().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
