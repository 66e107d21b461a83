import type kafkajs from "kafkajs";
import { InfrastructureError } from "../errors.js";
import { fetchRaw, rawCluster, READ_UNCOMMITTED, type RawCluster } from "../clients/kafkajs.js";
import { CommittedLog, markerOf } from "./committed.js";

export interface CrossCheckOptions {
  /** A direct kafkajs client: its raw fetch, not its consumer. */
  kafka: kafkajs.Kafka;
  bootstrap: string;
  topic: string;
  readCommitted: boolean;
  /** partition → the offset the reader of record read up to */
  ends: Map<number, number>;
  /** partition → the topic's high watermark: markers of transactions below `ends` lie below it */
  high: Map<number, number>;
  /** partition → the offsets the reader of record returned */
  read: Map<number, number[]>;
}

/**
 * Test hook: the cross-check leaves this partition out, as a broken second reader would; the run
 * must then end exit 3, never with a verdict.
 */
export const SKIP_PARTITION_ENV = "KAFKA_CHAOS_TEST_CROSS_CHECK_SKIP";

const FETCH_BYTES = 8 * 1024 * 1024;
const EMPTY_FETCHES = 20;

/**
 * Computes each partition's records a second way, from a raw read_uncommitted fetch and the
 * transaction markers (see committed.ts), and compares them with what the reader of record
 * returned. A difference ends the run: exit 3, never a verdict.
 */
export async function crossCheck(opts: CrossCheckOptions): Promise<void> {
  const skip = process.env[SKIP_PARTITION_ENV];
  const cluster = rawCluster(opts.kafka, READ_UNCOMMITTED);
  try {
    await cluster.connect();
    await cluster.addTargetTopic(opts.topic);
    await cluster.refreshMetadata();
    for (const [partition, end] of opts.ends) {
      const read = opts.read.get(partition) ?? [];
      if (end <= 0 && read.length === 0) continue;
      if (skip === String(partition)) {
        compare(opts.topic, partition, read, [], opts.bootstrap);
        continue;
      }
      const start = await earliest(cluster, opts.topic, partition);
      if (everyOffset(read, start, end)) continue;
      const limit = opts.readCommitted ? Math.max(end, opts.high.get(partition) ?? end) : end;
      const log = await readRaw(cluster, opts.topic, partition, limit, opts.bootstrap, start);
      const expected = opts.readCommitted ? log.committedBelow(end) : log.everyBelow(end);
      compare(opts.topic, partition, read, expected, opts.bootstrap);
    }
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}

/**
 * The reader returned a record at every offset from the log's start to the end. No client
 * hands out a transaction marker, and every transaction (committed or aborted) ends in one:
 * a partition read without a gap holds no transaction, only committed records, and a second
 * computation could only say the same. (Offsets are read in order: count and ends suffice.)
 */
export function everyOffset(read: number[], start: number, end: number): boolean {
  if (read.length !== end - start) return false;
  return read.length === 0 || (read[0] === start && read[read.length - 1] === end - 1);
}

function compare(
  topic: string,
  partition: number,
  read: number[],
  expected: number[],
  bootstrap: string,
): void {
  const first = read.findIndex((o, i) => o !== expected[i]);
  if (read.length === expected.length && first === -1) return;
  const at = first === -1 ? Math.min(read.length, expected.length) : first;
  const where = `first difference at record ${at}: offset ${read[at] ?? "none"} vs ${expected[at] ?? "none"}`;
  throw new InfrastructureError(
    bootstrap,
    `readers disagree on topic ${topic} partition ${partition}: ${read.length} vs ${expected.length} records (${where}); the reader of record (librdkafka) and the raw log with its transaction markers must agree before a verdict is given`,
  );
}

/** The partition's raw log from its earliest offset up to `limit`, leader by leader. */
async function readRaw(
  cluster: RawCluster,
  topic: string,
  partition: number,
  limit: number,
  bootstrap: string,
  start: number,
): Promise<CommittedLog> {
  const log = new CommittedLog();
  let offset = start;
  let empty = 0;
  while (offset < limit) {
    const messages = await fetchRaw(cluster, topic, partition, offset, FETCH_BYTES, 500);
    for (const m of messages) {
      log.add({
        offset: Number(m.offset),
        producerId: m.batchContext.producerId,
        transactional: m.batchContext.inTransaction,
        ...(m.isControlRecord ? { marker: markerOf(m.key) ?? "abort" } : {}),
      });
    }
    const next = Math.max(offset, log.nextOffset());
    empty = next > offset ? 0 : empty + 1;
    if (empty >= EMPTY_FETCHES) {
      throw new InfrastructureError(
        bootstrap,
        `cross-check of ${topic} partition ${partition}: no record at offset ${offset} after ${EMPTY_FETCHES} fetches (end ${limit})`,
      );
    }
    offset = next;
  }
  return log;
}

async function earliest(cluster: RawCluster, topic: string, partition: number): Promise<number> {
  const [found] = await cluster.fetchTopicsOffset([
    { topic, fromBeginning: true, partitions: [{ partition }] },
  ]);
  return Number(found?.partitions[0]?.offset ?? 0);
}
