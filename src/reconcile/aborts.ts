import type { DrainedRecord, ProcessedEvent } from "../history/events.js";
import { SmallestIds } from "./examples.js";
import { checkOutputRange } from "./ids.js";
import { OffsetSet } from "./storage.js";
import type { OutputIsolation } from "./types.js";

/**
 * Output records that lie in the output range of an aborted transaction. Ranges and records
 * may arrive in any order: each (record, range) meeting is counted once, by whichever
 * arrives second. One bit per output offset read, per drain.
 */
export class AbortTracker {
  private readonly aborted = new OffsetSet();
  private readonly committed = new OffsetSet();
  private readonly uncommitted = new OffsetSet();
  /** read_committed records in aborted ranges */
  reads = 0;
  /** read_uncommitted records in aborted ranges */
  visible = 0;
  readonly examples = new SmallestIds();

  addAborted(e: ProcessedEvent): void {
    const ranges = Object.entries(e.output ?? {});
    // The chunk went to one partition in item order: item i is the record at base + i.
    const single = ranges.length === 1 && ranges[0]![1][1] === e.items.length;
    for (const [key, [base, count]] of ranges) {
      const partition = Number(key);
      checkOutputRange(partition, base, count);
      for (let i = 0; i < count; i++) {
        const offset = base + i;
        if (!this.aborted.add(partition, offset)) continue;
        if (this.committed.has(partition, offset)) {
          this.reads++;
          const item = single ? e.items[i] : undefined;
          if (item) this.examples.offer(item[0], item[1]);
        }
        if (this.uncommitted.has(partition, offset)) this.visible++;
      }
    }
  }

  addRead(r: DrainedRecord, isolation: OutputIsolation): void {
    const read = isolation === "committed" ? this.committed : this.uncommitted;
    if (!read.add(r.partition, r.offset)) return;
    if (!this.aborted.has(r.partition, r.offset)) return;
    if (isolation === "uncommitted") {
      this.visible++;
      return;
    }
    this.reads++;
    this.examples.offer(r.producer, r.seq);
  }
}
