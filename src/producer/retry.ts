import { setTimeout as sleep } from "node:timers/promises";
import type { SendResult } from "./kafkajs.js";
import type { Batch, ProducerOptions } from "./producer.js";

/**
 * As an exactly-once application does: a transaction known to be aborted is retried (up to
 * `retries` times) with the same batches; one whose commit failed is resolved first, never
 * blindly retried; a refusal no retry fixes is not retried. `more` gives the next batch to add
 * while the first attempt is open. One result per batch (batches as they are at the end).
 */
export async function retryAborted(
  opts: ProducerOptions,
  attempt: (more: () => Promise<Batch | undefined>) => Promise<SendResult[]>,
  more: () => Promise<Batch | undefined>,
): Promise<SendResult[]> {
  let result = await attempt(more);
  for (let retry = 0; retry < opts.settings.retries; retry += 1) {
    const first = result[0]!;
    if (first.outcome !== "fail" || first.misconfiguration || opts.signal.aborted) break;
    await sleep(opts.settings.retryBackoffMs);
    result = await attempt(async () => undefined);
  }
  return result;
}
