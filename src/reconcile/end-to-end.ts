import { countMessage } from "./hop.js";
import type { ProducerSeen } from "./storage.js";
import type { HopCounts } from "./types.js";

/**
 * end-to-end, one message: the producer history's outcome against the copies the pipeline's
 * last stage holds (the input topic of a producer-only run, the output topic read_committed,
 * or the sink's rows).
 */
export function countDelivered(
  hop: HopCounts,
  producer: number,
  seq: number,
  outcome: number,
  mark: number,
  seen: ProducerSeen | undefined,
  acked: number,
): void {
  countMessage(hop, producer, seq, outcome, mark, seen, acked);
}
