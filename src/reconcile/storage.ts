import type { Outcome } from "../history/events.js";
import { checkRange } from "./ids.js";

/**
 * The reconciler's state, keyed by (producer, seq) or by (partition, offset): typed arrays in
 * 64 KiB pages, never one object per message.
 */

// Outcome codes, ordered so that the strongest claim wins when a seq has several
// completions: once acked it stays acked; unknown beats fail (it may have happened).
export const NONE = 0;
export const PENDING = 1;
export const FAIL = 2;
export const UNKNOWN = 3;
export const OK = 4;
export const OUTCOME_CODE: Record<Outcome, number> = { fail: FAIL, unknown: UNKNOWN, ok: OK };

// Seen byte: low 7 bits count copies (127 = "see overflow map"), top bit = reordered.
export const COUNT_MASK = 0x7f;
export const COUNT_OVERFLOW = 0x7f;
export const REORDERED = 0x80;
// Processing byte: the whole byte counts ok processings (255 = "see overflow map").
export const PROCESSED_OVERFLOW = 0xff;

// Paged rather than one array grown by doubling: growth never copies, and a stray huge
// seq from foreign data costs one page instead of an array that large.
export const PAGE_SIZE = 1 << 16;
const PAGE_BITS = PAGE_SIZE * 8;
export const EMPTY_PAGE = new Uint8Array(PAGE_SIZE);

/** A sparse byte array over non-negative integers, allocated in 64 KiB pages. */
export class PagedBytes {
  private readonly pages = new Map<number, Uint8Array>();

  page(index: number): Uint8Array | undefined {
    return this.pages.get(index);
  }

  pageFor(index: number): Uint8Array {
    let page = this.pages.get(index);
    if (!page) {
      page = new Uint8Array(PAGE_SIZE);
      this.pages.set(index, page);
    }
    return page;
  }

  pageIndexes(): number[] {
    return [...this.pages.keys()];
  }

  /** Sets every byte in [from, to] to at least `value`. */
  raise(from: number, to: number, value: number): void {
    for (let seq = from; seq <= to;) {
      const index = Math.floor(seq / PAGE_SIZE);
      const page = this.pageFor(index);
      const base = index * PAGE_SIZE;
      const last = Math.min(to, base + PAGE_SIZE - 1);
      for (let j = seq - base; j <= last - base; j++) {
        if (page[j]! < value) page[j] = value;
      }
      seq = last + 1;
    }
  }
}

/** A sparse set of non-negative integers (offsets), one bit each, in 64 KiB pages. */
export class PagedBits {
  private readonly bytes = new PagedBytes();

  has(n: number): boolean {
    const index = Math.floor(n / PAGE_BITS);
    const page = this.bytes.page(index);
    if (!page) return false;
    const bit = n - index * PAGE_BITS;
    return (page[bit >>> 3]! & (1 << (bit & 7))) !== 0;
  }

  /** Adds n; false if it was there already. */
  add(n: number): boolean {
    const index = Math.floor(n / PAGE_BITS);
    const page = this.bytes.pageFor(index);
    const bit = n - index * PAGE_BITS;
    const mask = 1 << (bit & 7);
    const byte = page[bit >>> 3]!;
    if (byte & mask) return false;
    page[bit >>> 3] = byte | mask;
    return true;
  }
}

/** (partition, offset) pairs of one topic. */
export class OffsetSet {
  private readonly partitions = new Map<number, PagedBits>();

  has(partition: number, offset: number): boolean {
    return this.partitions.get(partition)?.has(offset) ?? false;
  }

  add(partition: number, offset: number): boolean {
    let bits = this.partitions.get(partition);
    if (!bits) {
      bits = new PagedBits();
      this.partitions.set(partition, bits);
    }
    return bits.add(offset);
  }
}

/** What the history says about each message: its strongest outcome code, per producer. */
export class OutcomeLog {
  private readonly producers = new Map<number, PagedBytes>();

  mark(producer: number, from: number, to: number, code: number): void {
    checkRange(producer, from, to);
    let bytes = this.producers.get(producer);
    if (!bytes) {
      bytes = new PagedBytes();
      this.producers.set(producer, bytes);
    }
    bytes.raise(from, to, code);
  }

  of(producer: number): PagedBytes | undefined {
    return this.producers.get(producer);
  }

  producerIds(): number[] {
    return [...this.producers.keys()];
  }

  /** The outcome code of one message; NONE if never invoked. */
  codeOf(producer: number, seq: number): number {
    const index = Math.floor(seq / PAGE_SIZE);
    return this.producers.get(producer)?.page(index)?.[seq - index * PAGE_SIZE] ?? NONE;
  }

  /** How many messages hold each outcome code: index = code, NONE included. */
  codeCounts(): number[] {
    const counts = [0, 0, 0, 0, 0];
    for (const bytes of this.producers.values()) {
      for (const index of bytes.pageIndexes()) {
        for (const code of bytes.page(index)!) counts[code]!++;
      }
    }
    return counts;
  }
}

/** Per-seq counters of one producer: a byte each, exact counts past the byte in `overflow`. */
export interface ProducerSeen {
  counts: PagedBytes;
  overflow: Map<number, number>;
}

export function newSeen(): ProducerSeen {
  return { counts: new PagedBytes(), overflow: new Map() };
}

/**
 * The count field after one more copy; a field at `overflow` means "exact count in the
 * map", so counts past the field's range go to `overflow`.
 */
export function bump(
  overflow: Map<number, number>,
  seq: number,
  count: number,
  max: number,
): number {
  if (count < max - 1) return count + 1;
  overflow.set(seq, count === max ? overflow.get(seq)! + 1 : max);
  return max;
}

export function copiesOf(mark: number, seq: number, seen: ProducerSeen | undefined): number {
  const count = mark & COUNT_MASK;
  return count === COUNT_OVERFLOW ? seen!.overflow.get(seq)! : count;
}

export function processingsOf(mark: number, seq: number, log: ProducerSeen | undefined): number {
  return mark === PROCESSED_OVERFLOW ? log!.overflow.get(seq)! : mark;
}
