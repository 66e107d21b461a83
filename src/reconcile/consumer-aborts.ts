import type { ProcessedEvent } from "../history/events.js";
import { SmallestIds } from "./examples.js";
import { isIndex } from "./ids.js";
import type { OffsetSet } from "./storage.js";
import { ProcessingLog } from "./tallies.js";

/**
 * broker-consumer's aborted reads: input records a read_committed consumer processed although
 * the input topic never committed them (records of aborted transactions). Judged against the
 * reader of record's read_committed drain of the input, below the offsets it read up to.
 */
export class ConsumerAborts {
  reads = 0;
  readonly examples = new SmallestIds();
  /** processings with effect of such records: booked here, not as re-deliveries */
  readonly processings = new ProcessingLog();

  constructor(
    private readonly committed: OffsetSet,
    private readonly ends: Map<number, number>,
  ) {}

  addChunk(e: ProcessedEvent): void {
    const offsets = chunkOffsets(e);
    if (!offsets) return;
    const aligned = offsets.length === e.items.length;
    const end = this.ends.get(e.partition) ?? 0;
    offsets.forEach((offset, i) => {
      if (offset >= end || this.committed.has(e.partition, offset)) return;
      this.reads++;
      const item = aligned ? e.items[i] : undefined;
      if (!item || !isIndex(item[0]) || !isIndex(item[1])) return;
      this.examples.offer(item[0], item[1]);
      if (e.outcome === "ok") this.processings.add(item[0], item[1]);
    });
  }
}

/** The input offsets of a chunk's records: written, or implied by a range without holes. */
export function chunkOffsets(e: ProcessedEvent): number[] | undefined {
  if (e.offsets) return e.offsets;
  const count = e.toOffset - e.fromOffset + 1;
  if (count !== e.items.length) return undefined;
  return Array.from({ length: count }, (_, i) => e.fromOffset + i);
}
