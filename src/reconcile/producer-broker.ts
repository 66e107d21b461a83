import { countMessage } from "./hop.js";
import type { ProducerSeen } from "./storage.js";
import type { HopCounts } from "./types.js";

/**
 * producer-broker, one message: the producer history's outcome against the copies the input
 * topic's drain (read_committed) holds.
 */
export function countStored(
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
