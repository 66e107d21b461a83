import fs from "node:fs";
import kafkajs from "kafkajs";
import { InfrastructureError } from "../errors.js";
import { encodeDrained } from "../history/reader.js";
import { HEADER_PRODUCER, HEADER_RUN, HEADER_SEQ } from "./headers.js";

export interface DrainOptions {
  kafka: kafkajs.Kafka;
  bootstrap: string;
  runId: string;
  topic: string;
  groupId: string;
  file: string;
  readCommitted: boolean;
  /** Give up when no partition made progress for this long. */
  idleTimeoutMs?: number;
}

export interface DrainStats {
  records: number;
  /** Records in the run's topic without this run's headers. */
  foreign: number;
}

/**
 * Reads the topic from the earliest offset up to the end offsets it had when the drain began,
 * over a direct (never proxied) connection, and writes one line per record to `file`.
 * The file is written under a temporary name and renamed only once the drain is complete.
 */
export async function drainTopic(opts: DrainOptions): Promise<DrainStats> {
  const targets = await endOffsets(opts);
  const pending = new Set([...targets].filter(([, end]) => end > 0).map(([p]) => p));
  const tmp = `${opts.file}.partial`;
  const out = fs.createWriteStream(tmp);
  const stats: DrainStats = { records: 0, foreign: 0 };
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
              const id = identity(m, opts.runId);
              if (!id) stats.foreign += 1;
              else
                lines.push(
                  encodeDrained({ partition: batch.partition, offset: Number(m.offset), ...id }),
                );
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

async function endOffsets(opts: DrainOptions): Promise<Map<number, number>> {
  const admin = opts.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(opts.topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

function identity(
  m: kafkajs.KafkaMessage,
  runId: string,
): { producer: number; seq: number } | undefined {
  const h = m.headers ?? {};
  if (String(h[HEADER_RUN] ?? "") !== runId) return undefined;
  const producer = Number(String(h[HEADER_PRODUCER] ?? ""));
  const seq = Number(String(h[HEADER_SEQ] ?? ""));
  if (!Number.isInteger(producer) || !Number.isInteger(seq)) return undefined;
  return { producer, seq };
}
