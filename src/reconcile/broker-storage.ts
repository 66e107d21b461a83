import { messageId } from "../history/events.js";
import { addExample } from "./examples.js";
import { copiesOf, OK, type ProducerSeen } from "./storage.js";
import type { HopCounts } from "./types.js";

/**
 * broker-storage, one message: a broker acknowledged it (outcome ok; an unconfirmed ok is
 * unknown, never ok), so it was stored; is it in the input topic's final drain? Acked and
 * missing = the broker lost what it had stored. Duplicates, reorders and never-invoked
 * records are producer-broker's to report.
 */
export function countKept(
  hop: HopCounts,
  producer: number,
  seq: number,
  outcome: number,
  mark: number,
  seen: ProducerSeen | undefined,
): void {
  if (outcome !== OK) return;
  hop.in++;
  if (copiesOf(mark, seq, seen) > 0) return;
  hop.lost++;
  hop.lostAcked++;
  addExample(hop.examples.lost, messageId(producer, seq));
  addExample(hop.examples.lostAcked, messageId(producer, seq));
}
