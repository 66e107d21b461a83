import { readHistory } from "../history/reader.js";
import type { Profile } from "../profiles/schema.js";
import { processorHistories } from "./judge.js";
import { runFiles } from "./run-dir.js";

/** How large a stage's transactions were in a run: as set, and as measured from its history. */
export interface TransactionSize {
  /** the profile's setting: producer.transactionMs or processor.commitIntervalMs */
  ms: number;
  transactions: number;
  /** messages per transaction, mean */
  messages: number;
}

export interface TransactionSizes {
  producer?: TransactionSize;
  processor?: TransactionSize;
}

/**
 * The sizes of the run's transactions (producer batches, processor chunks, each tagged with
 * its transaction number), for the stages that used transactions; {} when none did.
 */
export async function transactionSizes(dir: string, profile: Profile): Promise<TransactionSizes> {
  const sizes: TransactionSizes = {};
  if (profile.producer.transactional) {
    const txns = new Map<string, number>();
    for await (const e of readHistory(runFiles(dir).history)) {
      if ((e.type === "ok" || e.type === "fail" || e.type === "unknown") && e.txn !== undefined) {
        const key = `${e.producer}:${e.txn}`;
        txns.set(key, (txns.get(key) ?? 0) + e.to - e.from + 1);
      }
    }
    sizes.producer = sizeOf(profile.producer.transactionMs, txns);
  }
  if (profile.processor.enabled && profile.processor.commit === "transaction") {
    const txns = new Map<string, number>();
    for (const file of processorHistories(dir)) {
      for await (const e of readHistory(file)) {
        if (e.type !== "processed" || e.txn === undefined) continue;
        const key = `${e.worker}:${e.txn}`;
        txns.set(key, (txns.get(key) ?? 0) + e.items.length);
      }
    }
    sizes.processor = sizeOf(profile.processor.commitIntervalMs, txns);
  }
  return sizes;
}

function sizeOf(ms: number, txns: Map<string, number>): TransactionSize {
  let messages = 0;
  for (const n of txns.values()) messages += n;
  return { ms, transactions: txns.size, messages: txns.size > 0 ? messages / txns.size : 0 };
}

/** e.g. "producer 100 ms ≈ 590 msgs, processor 100 ms ≈ 360 msgs"; "—" without transactions. */
export function describeTransactions(sizes: TransactionSizes): string {
  const part = (stage: string, s: TransactionSize | undefined) =>
    s ? `${stage} ${s.ms} ms ≈ ${Math.round(s.messages)} msgs` : undefined;
  const parts = [part("producer", sizes.producer), part("processor", sizes.processor)].filter(
    (p): p is string => p !== undefined,
  );
  return parts.length > 0 ? parts.join(", ") : "—";
}
