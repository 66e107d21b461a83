import { messageId } from "../history/events.js";
import { addExample } from "./examples.js";
import type { HopCounts } from "./types.js";

/**
 * broker-consumer, one invoked message: stored in the input topic, was it processed with
 * effect? A processing counts when its history says ok or when its output was read
 * (a worker killed between the output write and its history flush is no loss).
 */
export function countConsumed(
  hop: HopCounts,
  producer: number,
  seq: number,
  acked: boolean,
  storedCopies: number,
  oks: number,
  outCopies: number,
): void {
  const { examples } = hop;
  if (storedCopies > 0) {
    hop.in++;
    if (oks === 0 && outCopies === 0) {
      hop.lost++;
      addExample(examples.lost, messageId(producer, seq));
      if (acked) {
        hop.lostAcked++;
        addExample(examples.lostAcked, messageId(producer, seq));
      } else {
        hop.lostUnacked++;
        addExample(examples.lostUnacked, messageId(producer, seq));
      }
    }
  }
  // Each stored copy is delivered once by right (a producer retry is producer-broker's
  // duplicate); processings beyond them are re-deliveries after a crash before the commit.
  const explained = Math.max(storedCopies, 1);
  if (oks > explained) {
    hop.duplicated += oks - explained;
    addExample(examples.duplicated, messageId(producer, seq));
  }
}
