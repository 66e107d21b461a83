import { messageId } from "../history/events.js";
import { addExample } from "./examples.js";
import { REORDERED } from "./storage.js";
import type { HopCounts } from "./types.js";

/**
 * consumer-sink, one invoked message: did what the processor wrote (its DB transaction
 * committed) end up as exactly one row per copy the broker stored? Rows beyond the stored
 * copies come from re-processing: a plain sink's insert repeated after a crash.
 */
export function countSunk(
  hop: HopCounts,
  producer: number,
  seq: number,
  n: { oks: number; rows: number; storedCopies: number },
  mark: number,
): void {
  const { examples } = hop;
  const id = messageId(producer, seq);
  if (n.oks > 0 || n.rows > 0) {
    hop.in++;
    if (n.rows === 0) {
      hop.lost++;
      hop.lostAcked++;
      addExample(examples.lost, id);
      addExample(examples.lostAcked, id);
    }
  }
  const extra = n.rows - Math.max(n.storedCopies, 1);
  if (extra > 0) {
    hop.duplicated += extra;
    addExample(examples.duplicated, id);
  }
  if (n.rows > 0 && mark & REORDERED) {
    hop.reordered++;
    addExample(examples.reordered, id);
  }
}
