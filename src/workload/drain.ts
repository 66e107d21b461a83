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
  const stats: DrainStats = { records: 0, foreign: 0, unidentified: 0 };
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

/** partition → end offset (high watermark), riding out a leader change (see endOffsets). */
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
