import { setTimeout as sleep } from "node:timers/promises";
import type kafkajs from "kafkajs";
import type { Connection } from "../clients/connection.js";
import { fetchRaw, rawCluster, READ_UNCOMMITTED } from "../clients/kafkajs.js";
import { assignedConsumer, connect, consume, disconnect } from "../clients/librdkafka.js";
import type { Message } from "@confluentinc/kafka-javascript";
import { identityOf } from "../identity/headers.js";
import { markerOf } from "./committed.js";
import { fieldsOf } from "./drain.js";

export type Fate = "committed" | "aborted" | undefined;

export interface InDoubt {
  topic: string;
  /** partition → base offset the batch was written at (from the transactional send) */
  offsets: Record<string, string>;
  runId: string;
  producer: number;
  from: number;
}

export interface FateReader {
  /** a direct kafkajs client, for the raw log */
  kafka: kafkajs.Kafka;
  bootstrap: string;
  connection?: Connection;
}

/**
 * Decides whether a transaction whose commit failed was committed or aborted, once a new
 * producer with the same transactional id has finished it, two independent ways: the reader of
 * record (librdkafka, read_committed) sees the batch's first record at its base offset only if
 * it committed; the raw log says which marker of the record's producer follows it. Undefined
 * (the batch stays "unknown") when either cannot tell in time or they disagree.
 */
export async function resolveInDoubt(
  reader: FateReader,
  doubt: InDoubt,
  timeoutMs = 15_000,
): Promise<Fate> {
  const entries = Object.entries(doubt.offsets);
  if (entries.length === 0) return undefined;
  const [partitionText, baseText] = entries[0]!;
  const at = { topic: doubt.topic, partition: Number(partitionText), base: Number(baseText) };
  const deadline = Date.now() + timeoutMs;
  const [read, raw] = await Promise.all([
    readCommittedAt(reader, at, doubt, deadline).catch(() => undefined),
    markerAfter(reader.kafka, at, deadline).catch(() => undefined),
  ]);
  return read !== undefined && read === raw ? read : undefined;
}

interface At {
  topic: string;
  partition: number;
  base: number;
}

/** librdkafka read_committed from the base offset: is the batch's first record there? */
async function readCommittedAt(
  reader: FateReader,
  at: At,
  doubt: InDoubt,
  deadline: number,
): Promise<Fate> {
  const consumer = assignedConsumer(reader.bootstrap, reader.connection, {
    "isolation.level": "read_committed",
    "enable.partition.eof": true,
    "fetch.wait.max.ms": 100,
  });
  let passed = false;
  try {
    await connect(consumer, Math.max(1000, deadline - Date.now()));
    // The end of what read_committed may read lies past the base: nothing there was visible.
    consumer.on("partition.eof", (eof) => {
      if (eof.partition === at.partition && eof.offset > at.base) passed = true;
    });
    consumer.setDefaultConsumeTimeout(200);
    consumer.assign([{ topic: at.topic, partition: at.partition, offset: at.base }]);
    while (Date.now() < deadline) {
      const messages = await consume(consumer, 100);
      const first = messages.find((m) => m.partition === at.partition && m.offset >= at.base);
      if (first)
        return first.offset === at.base && isBatchStart(first, doubt) ? "committed" : "aborted";
      if (passed) return "aborted";
    }
    return undefined;
  } finally {
    await disconnect(consumer);
  }
}

function isBatchStart(m: Message, doubt: InDoubt): boolean {
  const { runId, producer, seq } = identityOf(fieldsOf(m));
  return runId === doubt.runId && producer === doubt.producer && seq >= doubt.from;
}

/** The raw log from the base offset: the next marker of the producer that wrote the base record. */
async function markerAfter(kafka: kafkajs.Kafka, at: At, deadline: number): Promise<Fate> {
  const cluster = rawCluster(kafka, READ_UNCOMMITTED);
  try {
    await cluster.connect();
    await cluster.addTargetTopic(at.topic);
    await cluster.refreshMetadata();
    let producerId: string | undefined;
    let offset = at.base;
    while (Date.now() < deadline) {
      const records = await fetchRaw(cluster, at.topic, at.partition, offset, 1024 * 1024, 200);
      for (const r of records) {
        const o = Number(r.offset);
        if (o < offset) continue;
        offset = o + 1;
        if (producerId === undefined) {
          if (o !== at.base || r.isControlRecord || !r.batchContext.inTransaction) return "aborted";
          producerId = r.batchContext.producerId;
        } else if (r.isControlRecord && r.batchContext.producerId === producerId) {
          return markerOf(r.key) === "commit" ? "committed" : "aborted";
        }
      }
      if (records.length === 0) await sleep(100);
    }
    return undefined;
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}
