/**
 * Before the final drain: what producers were told is written must be visible to a reader
 * (below the high watermark) or be known gone. See waitAckedVisible.
 */
import type { HistoryWriter } from "../history/writer.js";
import { waitAckedVisible } from "../reader/offsets.js";
import type kafkajs from "kafkajs";
import { tapHistory } from "./watch-sources.js";

/** When the brokers do not say their replica.lag.time.max.ms: Kafka's default is 30 s. */
export const DEFAULT_REPLICA_LAG_MS = 30_000;
/** Past the lag limit: time for the leader to shrink the ISR and move the high watermark. */
const SETTLE_MARGIN_MS = 3000;

/** partition → one past the base offset of the last batch acked there, as the history grows. */
export function ackedEnds(history: HistoryWriter): Map<number, number> {
  const ends = new Map<number, number>();
  tapHistory(history, (e) => {
    if (e.type !== "ok" || !e.offsets) return;
    for (const [p, base] of Object.entries(e.offsets)) {
      const end = Number(base) + 1;
      if (end > (ends.get(Number(p)) ?? 0)) ends.set(Number(p), end);
    }
  });
  return ends;
}

/** Waits for acked records to be visible; warnings say where it waited, or where it gave up. */
export async function settleAcked(
  direct: kafkajs.Kafka,
  topic: string,
  acked: ReadonlyMap<number, number>,
  replicaLagMs: number | undefined,
): Promise<string[]> {
  if (acked.size === 0) return [];
  // A follower that stopped fetching holds the high watermark back until the leader drops it
  // from the ISR; after that, acked records still not visible are gone from the log.
  const timeoutMs = (replicaLagMs ?? DEFAULT_REPLICA_LAG_MS) + SETTLE_MARGIN_MS;
  const { waitedMs, held } = await waitAckedVisible(direct, topic, acked, timeoutMs);
  const seconds = (waitedMs / 1000).toFixed(1);
  if (held.length > 0) {
    const where = held.map((h) => `p${h.partition} high watermark ${h.high} < ${h.acked}`);
    return [
      `acked records of ${topic} were still not visible to readers after ${seconds}s (${where.join(", ")}): a record the drain does not find counts as lost`,
    ];
  }
  if (waitedMs < 1000) return [];
  return [
    `acked records of ${topic} became visible to readers only ${seconds}s after the run (followers lagged); the drain waited for them`,
  ];
}
