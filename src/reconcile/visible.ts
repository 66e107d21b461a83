import { messageId, type DrainedRecord, type TailSeen } from "../history/events.js";
import { compareIds, isIndex, sortedUnion } from "./ids.js";
import { OK, PagedBits, type OutcomeLog } from "./storage.js";
import { EXAMPLE_LIMIT, type VisibleLoss } from "./types.js";

/**
 * What a reader following the input topic during the run (read_uncommitted, tail.jsonl) saw,
 * by (partition, offset), checked against the final drain: an acked message seen at an offset
 * that the drain shows holding another record, or nothing, and found nowhere in the drain, was
 * lost after being visible, the proof that a leader change truncated the log. One the drain
 * still holds elsewhere is not: a read_uncommitted reader also sees a copy in a transaction
 * that was aborted and retried, and a copy a retry wrote again.
 *
 * Memory: 12 bytes per offset seen (producer + 1, seq and time, each a Uint32 in pages by
 * offset); a drained record that matches what was seen at its offset clears it. Identities
 * past 32 bits, and a second identity seen at one offset (the reader re-read a truncated
 * range), go to a small per-partition map.
 */

const PAGE = 1 << 14;
const MAX_U32 = 0xffffffff;

interface SeenPage {
  /** producer + 1; 0 = nothing seen here, or matched by the drain */
  producers: Uint32Array;
  seqs: Uint32Array;
  /** ms since the run started, rounded */
  times: Uint32Array;
}

/** [producer, seq, time] */
type Sighting = [number, number, number];

class SeenPartition {
  readonly pages = new Map<number, SeenPage>();
  /** offset → identities that do not fit the pages */
  readonly extra = new Map<number, Sighting[]>();

  add(offset: number, producer: number, seq: number, time: number): void {
    const index = Math.floor(offset / PAGE);
    const j = offset - index * PAGE;
    if (producer < MAX_U32 && seq <= MAX_U32) {
      const page = this.pageFor(index);
      const held = page.producers[j]!;
      if (held === 0) {
        page.producers[j] = producer + 1;
        page.seqs[j] = seq;
        page.times[j] = time;
        return;
      }
      if (held === producer + 1 && page.seqs[j] === seq) {
        page.times[j] = Math.min(page.times[j]!, time);
        return;
      }
    }
    const list = this.extra.get(offset) ?? [];
    const same = list.find(([p, s]) => p === producer && s === seq);
    if (same) same[2] = Math.min(same[2], time);
    else list.push([producer, seq, time]);
    this.extra.set(offset, list);
  }

  /** The drain holds (producer, seq) at `offset`: what was seen there was kept. */
  match(offset: number, producer: number, seq: number): void {
    const index = Math.floor(offset / PAGE);
    const page = this.pages.get(index);
    if (page) {
      const j = offset - index * PAGE;
      if (page.producers[j] === producer + 1 && page.seqs[j] === seq) page.producers[j] = 0;
    }
    const list = this.extra.get(offset);
    if (!list) return;
    const rest = list.filter(([p, s]) => p !== producer || s !== seq);
    if (rest.length === 0) this.extra.delete(offset);
    else this.extra.set(offset, rest);
  }

  /** Everything seen and not matched, by offset. */
  *unmatched(): Generator<[number, Sighting]> {
    const pageOffsets = [...this.pages.keys()].map((index) => index * PAGE);
    const extraPages = [...this.extra.keys()].map((o) => Math.floor(o / PAGE) * PAGE);
    for (const base of sortedUnion(pageOffsets, extraPages)) {
      const page = this.pages.get(base / PAGE);
      for (let j = 0; j < PAGE; j++) {
        const offset = base + j;
        const held = page ? page.producers[j]! : 0;
        if (held !== 0) yield [offset, [held - 1, page!.seqs[j]!, page!.times[j]!]];
        for (const sighting of this.extra.get(offset) ?? []) yield [offset, sighting];
      }
    }
  }

  private pageFor(index: number): SeenPage {
    let page = this.pages.get(index);
    if (!page) {
      page = {
        producers: new Uint32Array(PAGE),
        seqs: new Uint32Array(PAGE),
        times: new Uint32Array(PAGE),
      };
      this.pages.set(index, page);
    }
    return page;
  }
}

/** The smallest distinct message ids offered with where they were seen, at most EXAMPLE_LIMIT. */
class SmallestSightings {
  private readonly items: { producer: number; seq: number; loss: VisibleLoss }[] = [];

  offer(producer: number, seq: number, loss: VisibleLoss): void {
    const { items } = this;
    const same = items.find((i) => i.producer === producer && i.seq === seq);
    if (same) return; // sightings come by partition, then offset: the first one stays
    let i = items.length;
    while (i > 0 && compareIds([items[i - 1]!.producer, items[i - 1]!.seq], producer, seq) > 0) {
      i--;
    }
    if (i >= EXAMPLE_LIMIT) return;
    items.splice(i, 0, { producer, seq, loss });
    if (items.length > EXAMPLE_LIMIT) items.pop();
  }

  list(): VisibleLoss[] {
    return this.items.map((i) => ({ ...i.loss }));
  }
}

/** Tail lines must all arrive before the input drain's records. */
export class VisibleLog {
  private readonly partitions = new Map<number, SeenPartition>();

  addLine(line: TailSeen): void {
    const { partition } = line;
    if (!isIndex(partition)) return;
    const time = Math.min(MAX_U32, Math.max(0, Math.round(line.time)));
    for (const [offset, producer, seq] of line.records) {
      // Only invoked messages can be acked: foreign identities cannot be judged.
      if (!isIndex(offset) || !isIndex(producer) || !isIndex(seq)) continue;
      this.partitionFor(partition).add(offset, producer, seq, time);
    }
  }

  /** Every message seen and not drained where it was seen, as "producer:seq". */
  *sightings(): Generator<string> {
    for (const seen of this.partitions.values()) {
      for (const [, [producer, seq]] of seen.unmatched()) yield `${producer}:${seq}`;
    }
  }

  addDrained(r: DrainedRecord): void {
    this.partitions.get(r.partition)?.match(r.offset, r.producer, r.seq);
  }

  /**
   * Acked messages seen at an offset the drain does not show holding them, and missing from the
   * drain (`drained` gives a message's copies there): how many
   * (distinct messages) and the smallest ids, each with its first such sighting.
   */
  lostAfterVisible(
    outcomes: OutcomeLog,
    drained: (producer: number, seq: number) => number,
  ): { count: number; examples: VisibleLoss[] } {
    const counted = new Map<number, PagedBits>();
    const examples = new SmallestSightings();
    let count = 0;
    const partitions = [...this.partitions.keys()].sort((a, b) => a - b);
    for (const partition of partitions) {
      for (const [offset, [producer, seq, time]] of this.partitions.get(partition)!.unmatched()) {
        if (outcomes.codeOf(producer, seq) !== OK || drained(producer, seq) > 0) continue;
        let bits = counted.get(producer);
        if (!bits) {
          bits = new PagedBits();
          counted.set(producer, bits);
        }
        if (!bits.add(seq)) continue;
        count++;
        examples.offer(producer, seq, { id: messageId(producer, seq), partition, offset, time });
      }
    }
    return { count, examples: examples.list() };
  }

  private partitionFor(partition: number): SeenPartition {
    let seen = this.partitions.get(partition);
    if (!seen) {
      seen = new SeenPartition();
      this.partitions.set(partition, seen);
    }
    return seen;
  }
}
