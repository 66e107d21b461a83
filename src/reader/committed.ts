/**
 * What a read_committed reader must return, computed from a read_uncommitted read of the raw
 * log and its transaction markers only: a transactional record counts once the next control
 * marker of its producer in the partition is COMMIT, and is dropped when it is ABORT. This
 * shares nothing with a client's own filtering (which works from the broker's aborted
 * transaction index), which is the point: the two must agree.
 */

/** One record of the raw log, as a read_uncommitted fetch returns it. */
export interface RawRecord {
  offset: number;
  /** The producer id of the record's batch (int64, as text). */
  producerId: string;
  /** The batch is part of a transaction. */
  transactional: boolean;
  /** Set on a control record: the marker that ends the producer's transaction. */
  marker?: "commit" | "abort";
}

export class CommittedLog {
  private readonly open = new Map<string, number[]>();
  private readonly committed: number[] = [];
  private readonly all: number[] = [];
  private next = -1;

  /**
   * Feeds records in offset order. A fetch that starts inside a batch gets the whole batch
   * again: records below the next expected offset were seen and are skipped.
   */
  add(record: RawRecord): void {
    if (record.offset < this.next) return;
    this.next = record.offset + 1;
    if (record.marker) return this.end(record.producerId, record.marker);
    this.all.push(record.offset);
    if (!record.transactional) {
      this.committed.push(record.offset);
      return;
    }
    const list = this.open.get(record.producerId);
    if (list) list.push(record.offset);
    else this.open.set(record.producerId, [record.offset]);
  }

  /** The offset after the last record fed (-1 before any). */
  nextOffset(): number {
    return this.next;
  }

  /** Committed data records below `end`, ascending (a transaction still open counts as not). */
  committedBelow(end: number): number[] {
    return this.committed.filter((o) => o < end).sort((a, b) => a - b);
  }

  /** Every data record below `end` (what read_uncommitted returns), ascending. */
  everyBelow(end: number): number[] {
    return this.all.filter((o) => o < end);
  }

  private end(producerId: string, marker: "commit" | "abort"): void {
    const list = this.open.get(producerId);
    this.open.delete(producerId);
    if (marker === "commit" && list) for (const o of list) this.committed.push(o);
  }
}

/** The marker a control record's key names (version int16, type int16: 0 abort, 1 commit). */
export function markerOf(key: Buffer | null | undefined): "commit" | "abort" | undefined {
  if (!key || key.length < 4) return undefined;
  const type = key.readInt16BE(2);
  return type === 1 ? "commit" : type === 0 ? "abort" : undefined;
}
