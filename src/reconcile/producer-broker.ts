import { countMessage } from "./hop.js";
import { copiesOf, type ProducerSeen } from "./storage.js";
import type { HopCounts } from "./types.js";

/**
 * producer-broker, one message: the producer history's outcome against the copies the input
 * topic's drain (read_committed) holds. When the run has a broker-storage hop (`storage`), an
 * acked message reached the broker (it said so): missing from the drain, it is broker-storage's
 * loss, not this hop's, so it is not counted twice.
 */
export function countStored(
  hop: HopCounts,
  producer: number,
  seq: number,
  outcome: number,
  mark: number,
  seen: ProducerSeen | undefined,
  acked: number,
  storage: boolean,
): void {
  if (storage && outcome === acked && copiesOf(mark, seq, seen) === 0) {
    hop.in++;
    return;
  }
  countMessage(hop, producer, seq, outcome, mark, seen, acked);
}
