import fs from "node:fs";
import type { KafkaConsumer, Message } from "@confluentinc/kafka-javascript";
import { InfrastructureError } from "../errors.js";
import { encodeDrained } from "../history/reader.js";
import type { Connection } from "../clients/connection.js";
import { assignedConsumer, connect, consume, disconnect } from "../clients/librdkafka.js";
import { identityOf, type Identity } from "../identity/headers.js";

export interface DrainOptions {
  bootstrap: string;
  connection?: Connection;
  runId: string;
  topic: string;
  file: string;
  readCommitted: boolean;
  /** partition → the offset to read up to (excluded): the end offsets the drain is judged at. */
  ends: Map<number, number>;
  /**
   * Reads a record's identity (default: its headers). A custom reader's records are all the
   * run's own: one without an identity is kept as unexpected, not counted foreign.
   */
  identify?: (m: MessageFields) => Identity;
  /** Give up when no partition made progress for this long. */
  idleTimeoutMs?: number;
}

/** What an identity reader may look at. */
export interface MessageFields {
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: Record<string, unknown>;
}

export interface DrainStats {
  records: number;
  /** Records in the run's topic without this run's headers. */
  foreign: number;
  /** Records kept without an identity (producer and seq -1): unexpected. */
  unidentified: number;
  /** partition → the offset the drain read up to */
  ends: Map<number, number>;
  /** partition → the offsets of every record read, the run's and others': for the cross-check */
  offsets: Map<number, number[]>;
}

const BATCH = 5000;

/**
 * The reader of record (librdkafka): reads the topic from its earliest offset up to `ends`, over
 * a direct (never proxied) connection, and writes one line per record of the run to `file`.
 * No group is joined and nothing is committed. The file is written under a temporary name and
 * renamed only once the drain is complete.
 */
export async function drainTopic(opts: DrainOptions): Promise<DrainStats> {
  const stats: DrainStats = {
    records: 0,
    foreign: 0,
    unidentified: 0,
    ends: opts.ends,
    offsets: new Map([...opts.ends.keys()].map((p) => [p, []])),
  };
  const pending = new Set([...opts.ends].filter(([, end]) => end > 0).map(([p]) => p));
  const tmp = `${opts.file}.partial`;
  const out = fs.createWriteStream(tmp);
  const consumer = assignedConsumer(opts.bootstrap, opts.connection, {
    "isolation.level": opts.readCommitted ? "read_committed" : "read_uncommitted",
    "enable.partition.eof": true,
    "fetch.wait.max.ms": 100,
  });
  try {
    if (pending.size > 0) {
      await connect(consumer, 10_000);
      await readAll(
        consumer,
        opts,
        pending,
        (lines) => {
          if (lines.length > 0) out.write(`${lines.join("\n")}\n`);
        },
        stats,
      );
    }
  } finally {
    await disconnect(consumer);
    await new Promise<void>((resolve) => out.end(resolve));
  }
  fs.renameSync(tmp, opts.file);
  return stats;
}

async function readAll(
  consumer: KafkaConsumer,
  opts: DrainOptions,
  pending: Set<number>,
  write: (lines: string[]) => void,
  stats: DrainStats,
): Promise<void> {
  const custom = opts.identify !== undefined;
  const identify = opts.identify ?? identityOf;
  const endOf = (p: number) => opts.ends.get(p) ?? 0;
  let lastProgress = Date.now();
  consumer.on("partition.eof", (eof) => {
    lastProgress = Date.now();
    if (eof.topic === opts.topic && eof.offset >= endOf(eof.partition))
      pending.delete(eof.partition);
  });
  consumer.setDefaultConsumeTimeout(200);
  consumer.assign([...pending].map((partition) => ({ topic: opts.topic, partition, offset: -2 })));
  while (pending.size > 0) {
    const messages = await consume(consumer, BATCH);
    const lines: string[] = [];
    for (const m of messages) {
      if (m.offset >= endOf(m.partition)) continue;
      lastProgress = Date.now();
      stats.offsets.get(m.partition)?.push(m.offset);
      if (m.offset >= endOf(m.partition) - 1) pending.delete(m.partition);
      const { runId, producer, seq } = identify(fieldsOf(m));
      // Another run's record is foreign; one of this run with a malformed identity is kept
      // (producer or seq -1) so that the reconciler reports it as unexpected.
      if (runId !== opts.runId && !custom) stats.foreign += 1;
      else {
        if (producer === -1 && seq === -1) stats.unidentified += 1;
        lines.push(encodeDrained({ partition: m.partition, offset: m.offset, producer, seq }));
      }
    }
    stats.records += lines.length;
    write(lines);
    if (Date.now() - lastProgress > (opts.idleTimeoutMs ?? 30_000)) {
      throw new InfrastructureError(
        opts.bootstrap,
        `drain of ${opts.topic} stalled; partitions ${[...pending].join(",")} not read to the end`,
      );
    }
  }
}

/** A librdkafka message's key, value and headers (a list of one-key objects) as one record. */
export function fieldsOf(m: Message): MessageFields {
  const headers: Record<string, unknown> = {};
  for (const h of m.headers ?? []) Object.assign(headers, h);
  const key = typeof m.key === "string" ? Buffer.from(m.key) : (m.key ?? null);
  return { key, value: m.value, headers };
}
