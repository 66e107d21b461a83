import { messageId, type HopName } from "../history/events.js";
import { addExample, emptyExamples } from "./examples.js";
import type { RecordTally } from "./tallies.js";
import { copiesOf, NONE, REORDERED, type ProducerSeen } from "./storage.js";
import type { HopCounts } from "./types.js";

/** What every hop checker shares: a zeroed hop, and one message's history against its copies. */

export function emptyHop(name: HopName): HopCounts {
  return {
    name,
    in: 0,
    out: 0,
    lost: 0,
    lostAcked: 0,
    lostUnacked: 0,
    duplicated: 0,
    reordered: 0,
    abortedReads: 0,
    abortedVisible: 0,
    unexpected: 0,
    examples: emptyExamples(),
  };
}

export function addStrays(hop: HopCounts, tally: RecordTally): void {
  for (const id of tally.strayIds()) {
    hop.unexpected++;
    addExample(hop.examples.unexpected, id);
  }
}

/**
 * One message's send outcome (a code of storage.ts) against the copies a drain read of it:
 * lost (acked when `outcome` is `acked`), duplicated, reordered, or unexpected if never invoked.
 */
export function countMessage(
  hop: HopCounts,
  producer: number,
  seq: number,
  outcome: number,
  mark: number,
  seen: ProducerSeen | undefined,
  acked: number,
): void {
  const { examples } = hop;
  // Anomalies among never-invoked records are reported once, as unexpected.
  if (outcome === NONE) {
    hop.unexpected++;
    addExample(examples.unexpected, messageId(producer, seq));
    return;
  }
  hop.in++;
  const copies = copiesOf(mark, seq, seen);
  if (copies === 0) {
    hop.lost++;
    addExample(examples.lost, messageId(producer, seq));
    if (outcome === acked) {
      hop.lostAcked++;
      addExample(examples.lostAcked, messageId(producer, seq));
    } else {
      hop.lostUnacked++;
      addExample(examples.lostUnacked, messageId(producer, seq));
    }
    return;
  }
  if (copies > 1) {
    hop.duplicated += copies - 1;
    addExample(examples.duplicated, messageId(producer, seq));
  }
  if (mark & REORDERED) {
    hop.reordered++;
    addExample(examples.reordered, messageId(producer, seq));
  }
}
