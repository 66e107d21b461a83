import { messageId, type DrainedRecord } from "../history/events.js";
import { compareIds, compareStrings, isIndex } from "./ids.js";
import {
  bump,
  copiesOf,
  COUNT_MASK,
  COUNT_OVERFLOW,
  newSeen,
  PAGE_SIZE,
  PROCESSED_OVERFLOW,
  REORDERED,
  type ProducerSeen,
} from "./storage.js";

/** What was read at a hop (copies per message, first-copy reorders) and what was processed. */

interface PartitionState {
  lastOffset: number;
  maxSeq: Map<number, number>;
}

/**
 * The records read at one hop. Records must arrive per partition in increasing offset
 * order (partitions may interleave). Feed a second tally with another topic's records to
 * compute another hop.
 */
export class RecordTally {
  private readonly producers = new Map<number, ProducerSeen>();
  private readonly partitions = new Map<number, PartitionState>();
  private readonly strays = new Map<string, [number, number]>();

  add(r: DrainedRecord): void {
    const partition = this.partitionAt(r.partition, r.offset);
    if (!isIndex(r.producer) || !isIndex(r.seq)) {
      // A record with no identity at all is named by where it was read.
      const id =
        r.producer === -1 && r.seq === -1
          ? `no identity at partition ${r.partition} offset ${r.offset}`
          : messageId(r.producer, r.seq);
      this.strays.set(id, [r.producer, r.seq]);
      return;
    }
    const behind = advance(partition, r.producer, r.seq);
    const seen = this.seenOf(r.producer);
    const index = Math.floor(r.seq / PAGE_SIZE);
    const page = seen.counts.pageFor(index);
    const j = r.seq - index * PAGE_SIZE;
    const mark = page[j]!;
    const count = mark & COUNT_MASK;
    // Only the first copy can be reordered; a later copy is a duplicate.
    const flag = count === 0 ? (behind ? REORDERED : 0) : mark & REORDERED;
    page[j] = flag | bump(seen.overflow, r.seq, count, COUNT_OVERFLOW);
  }

  seen(producer: number): ProducerSeen | undefined {
    return this.producers.get(producer);
  }

  /** Copies of one message read at this hop. */
  copies(producer: number, seq: number): number {
    const seen = this.producers.get(producer);
    if (!seen) return 0;
    const index = Math.floor(seq / PAGE_SIZE);
    const mark = seen.counts.pageFor(index)[seq - index * PAGE_SIZE]!;
    return copiesOf(mark, seq, seen);
  }

  producerIds(): number[] {
    return [...this.producers.keys()];
  }

  /**
   * Records whose producer or seq is not a non-negative integer; always unexpected. Smallest
   * first, whatever the order the partitions were read in.
   */
  strayIds(): string[] {
    return [...this.strays]
      .sort(([a, x], [b, y]) => compareIds(x, y[0], y[1]) || compareStrings(a, b))
      .map(([id]) => id);
  }

  private partitionAt(partition: number, offset: number): PartitionState {
    let state = this.partitions.get(partition);
    if (!state) {
      state = { lastOffset: -Infinity, maxSeq: new Map() };
      this.partitions.set(partition, state);
    }
    if (!(offset > state.lastOffset)) {
      throw new Error(
        `records of partition ${partition} out of offset order: ${offset} after ${state.lastOffset}`,
      );
    }
    state.lastOffset = offset;
    return state;
  }

  private seenOf(producer: number): ProducerSeen {
    let seen = this.producers.get(producer);
    if (!seen) {
      seen = newSeen();
      this.producers.set(producer, seen);
    }
    return seen;
  }
}

/** How many times each message was processed with outcome ok (re-processings count). */
export class ProcessingLog {
  private readonly producers = new Map<number, ProducerSeen>();

  add(producer: number, seq: number): void {
    let seen = this.producers.get(producer);
    if (!seen) {
      seen = newSeen();
      this.producers.set(producer, seen);
    }
    const index = Math.floor(seq / PAGE_SIZE);
    const page = seen.counts.pageFor(index);
    const j = seq - index * PAGE_SIZE;
    page[j] = bump(seen.overflow, seq, page[j]!, PROCESSED_OVERFLOW);
  }

  of(producer: number): ProducerSeen | undefined {
    return this.producers.get(producer);
  }

  producerIds(): number[] {
    return [...this.producers.keys()];
  }
}

/** Records the seq as seen in its partition; true if a higher seq was seen there before. */
function advance(partition: PartitionState, producer: number, seq: number): boolean {
  const max = partition.maxSeq.get(producer) ?? -1;
  if (seq > max) partition.maxSeq.set(producer, seq);
  return seq < max;
}
