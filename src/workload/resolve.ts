import kafkajs from "kafkajs";
import { identityOf } from "./headers.js";

export type Fate = "committed" | "aborted" | undefined;

export interface InDoubt {
  topic: string;
  /** partition → base offset the batch was written at (from the transactional send) */
  offsets: Record<string, string>;
  runId: string;
  producer: number;
  from: number;
}

/**
 * Decides whether a transaction whose commit failed was committed or aborted, once a new
 * producer with the same transactional id has finished it: a read_committed reader sees the
 * batch's first record at its base offset only if the transaction committed.
 * Undefined when it cannot tell in time (the batch then stays "unknown").
 */
export async function resolveInDoubt(
  kafka: kafkajs.Kafka,
  groupId: string,
  doubt: InDoubt,
  timeoutMs = 15_000,
): Promise<Fate> {
  const entries = Object.entries(doubt.offsets);
  if (entries.length === 0) return undefined;
  const [partitionText, base] = entries[0] as [string, string];
  const partition = Number(partitionText);
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: doubt.topic, fromBeginning: false });
    const fate = new Promise<Fate>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      let visibleAtBase: boolean | undefined;
      void consumer.run({
        eachBatch: async ({ batch }) => {
          if (batch.partition !== partition) return;
          const first = batch.messages.find((m) => BigInt(m.offset) >= BigInt(base));
          if (first) visibleAtBase = first.offset === base && isBatchStart(first, doubt);
        },
      });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        consumer.seek({ topic: doubt.topic, partition, offset: base });
      });
      // Fired for every fetched batch, also one whose records were all aborted (and so never
      // reach eachBatch): once a batch spans the base offset, what was visible there decides.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const p = payload as { partition: number; firstOffset: string | null; lastOffset: string };
        if (p.partition !== partition || p.firstOffset === null) return;
        if (BigInt(p.firstOffset) > BigInt(base) || BigInt(p.lastOffset) < BigInt(base)) return;
        clearTimeout(timer);
        resolve(visibleAtBase ? "committed" : "aborted");
      });
    });
    return await fate;
  } catch {
    return undefined;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

function isBatchStart(m: kafkajs.KafkaMessage, doubt: InDoubt): boolean {
  const { runId, producer, seq } = identityOf(m);
  return runId === doubt.runId && producer === doubt.producer && seq >= doubt.from;
}
