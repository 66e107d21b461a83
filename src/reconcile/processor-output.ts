import { messageId } from "../history/events.js";
import { addExample } from "./examples.js";
import { REORDERED } from "./storage.js";
import type { HopCounts } from "./types.js";

/**
 * processor-output, one invoked message: were the output writes the processor was told
 * succeeded read back (read_committed)? Copies beyond the ok processings (at least one
 * processing explains a copy that was read) are output producer retries.
 */
export function countWritten(
  hop: HopCounts,
  producer: number,
  seq: number,
  oks: number,
  outCopies: number,
  outMark: number,
): void {
  const { examples } = hop;
  if (oks > 0) {
    hop.in++;
    if (outCopies === 0) {
      hop.lost++;
      hop.lostAcked++;
      addExample(examples.lost, messageId(producer, seq));
      addExample(examples.lostAcked, messageId(producer, seq));
    }
  }
  const extra = outCopies - Math.max(oks, 1);
  if (extra > 0) {
    hop.duplicated += extra;
    addExample(examples.duplicated, messageId(producer, seq));
  }
  if (outCopies > 0 && outMark & REORDERED) {
    hop.reordered++;
    addExample(examples.reordered, messageId(producer, seq));
  }
}
