import { errorCause } from "./error-cause.js";
import { messageId } from "../history/events.js";
import type {
  DrainedRecord,
  HistoryEvent,
  HopName,
  RunStarted,
  TailSeen,
} from "../history/events.js";
import type { ErrorGroup, Examples, HopCounts, MessageTotals } from "./reconcile.js";
import type { VisibleLoss } from "./types.js";

/**
 * A deliberately naive reference model of the reconciler, for the property tests: plain Maps
 * and arrays, quadratic where that is simpler, written from the documentation of
 * reconcile.ts and events.ts rather than from its code. Not part of the tool.
 * Where the documentation leaves a choice, the model makes the reconciler's:
 *  - "first copy" (reordered) is the first in the order the records were fed; it matters only
 *    for a message read on two partitions of one drain;
 *  - records without a valid identity are listed after the other unexpected ids;
 *  - broker-consumer lets one ok processing of a message missing from the input drain go
 *    free (duplicated = processings beyond max(stored copies, 1));
 *  - lostAfterVisible shows, for each acked message missing from the input drain, its first
 *    sighting by (partition, offset), at the earliest time it was seen there (ms rounded).
 */

/** One step of what the reconciler was fed, in the order it was fed. */
export type Feed =
  | { kind: "event"; event: HistoryEvent }
  | { kind: "input"; record: DrainedRecord }
  | { kind: "committed"; record: DrainedRecord }
  | { kind: "uncommitted"; record: DrainedRecord }
  | { kind: "sink"; record: DrainedRecord }
  /** a line of tail.jsonl: a run with a tail judges broker-storage (acks ≠ 0) */
  | { kind: "tail"; line: TailSeen };

export interface ModelResult {
  run: RunStarted | null;
  messages: MessageTotals;
  hops: HopCounts[];
  processor: { processed: number; aborted: number; unknown: number } | null;
  complete: boolean;
  durationMs: number | null;
  unconfirmed: { messages: number; partitions: number[] };
  errors: ErrorGroup[];
}

const LIMIT = 10;

type Outcome = "pending" | "fail" | "unknown" | "ok";
/** ok > unknown > fail > pending: the strongest claim about a message wins. */
const STRENGTH: Record<Outcome, number> = { pending: 1, fail: 2, unknown: 3, ok: 4 };

type Id = [number, number];

function key(producer: number, seq: number): string {
  return `${producer}/${seq}`;
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function byId(a: Id, b: Id): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Up to LIMIT distinct ids, smallest first by producer then seq. */
function smallest(ids: Id[]): string[] {
  const distinct = new Map<string, Id>();
  for (const id of ids) distinct.set(key(id[0], id[1]), id);
  return [...distinct.values()]
    .sort(byId)
    .slice(0, LIMIT)
    .map(([p, s]) => messageId(p, s));
}

/** What one drain (or the sink's rows) shows, message by message. */
interface Tally {
  copies: Map<string, number>;
  /** the first copy of the message came after a higher seq of its producer in its partition */
  reordered: Set<string>;
  ids: Map<string, Id>;
  /** ids of the records whose producer or seq is not a non-negative integer, one per record */
  strays: Id[];
}

function tally(records: DrainedRecord[]): Tally {
  const t: Tally = { copies: new Map(), reordered: new Set(), ids: new Map(), strays: [] };
  const before: DrainedRecord[] = [];
  for (const r of records) {
    if (!isIndex(r.producer) || !isIndex(r.seq)) {
      t.strays.push([r.producer, r.seq]);
      continue;
    }
    const k = key(r.producer, r.seq);
    const behind = before.some(
      (b) => b.partition === r.partition && b.producer === r.producer && b.seq > r.seq,
    );
    if (!t.copies.has(k) && behind) t.reordered.add(k);
    t.copies.set(k, (t.copies.get(k) ?? 0) + 1);
    t.ids.set(k, [r.producer, r.seq]);
    before.push(r);
  }
  return t;
}

/** A hop being counted: the numbers plus every id behind each example list. */
class HopBuilder {
  in = 0;
  lost = 0;
  lostAcked = 0;
  lostUnacked = 0;
  duplicated = 0;
  reordered = 0;
  unexpected = 0;
  abortedReads = 0;
  abortedVisible = 0;
  readonly ids: Record<keyof Examples, Id[]> = {
    lost: [],
    lostAcked: [],
    lostUnacked: [],
    duplicated: [],
    reordered: [],
    abortedReads: [],
    unexpected: [],
  };
  strays: Id[] = [];
  abortedExamples: string[] = [];

  constructor(readonly name: HopName) {}

  lose(id: Id, acked: boolean): void {
    this.lost++;
    this.ids.lost.push(id);
    if (acked) {
      this.lostAcked++;
      this.ids.lostAcked.push(id);
    } else {
      this.lostUnacked++;
      this.ids.lostUnacked.push(id);
    }
  }

  duplicate(id: Id, extra: number): void {
    if (extra <= 0) return;
    this.duplicated += extra;
    this.ids.duplicated.push(id);
  }

  reorder(id: Id): void {
    this.reordered++;
    this.ids.reordered.push(id);
  }

  foreign(id: Id): void {
    this.unexpected++;
    this.ids.unexpected.push(id);
  }

  build(): HopCounts {
    return {
      name: this.name,
      in: this.in,
      out: this.in - this.lost,
      lost: this.lost,
      lostAcked: this.lostAcked,
      lostUnacked: this.lostUnacked,
      duplicated: this.duplicated,
      reordered: this.reordered,
      abortedReads: this.abortedReads,
      abortedVisible: this.abortedVisible,
      // records without a valid identity: every distinct one, listed after the others
      unexpected: this.unexpected + new Set(this.strays.map(([p, s]) => key(p, s))).size,
      examples: {
        lost: smallest(this.ids.lost),
        lostAcked: smallest(this.ids.lostAcked),
        lostUnacked: smallest(this.ids.lostUnacked),
        duplicated: smallest(this.ids.duplicated),
        reordered: smallest(this.ids.reordered),
        abortedReads: this.abortedExamples,
        unexpected: [...smallest(this.ids.unexpected), ...smallest(this.strays)].slice(0, LIMIT),
      },
    };
  }
}

/** A hop that compares what was sent (history) with one drain: every copy counts. */
function sentVersusSeen(
  name: HopName,
  sent: Map<string, Outcome>,
  ids: Map<string, Id>,
  seen: Tally,
  ackedWhenOk: boolean,
  /** acked and missing is broker-storage's loss, not this hop's */
  storage = false,
): HopBuilder {
  const hop = new HopBuilder(name);
  for (const [k, id] of ids) {
    const outcome = sent.get(k);
    const copies = seen.copies.get(k) ?? 0;
    if (outcome === undefined) {
      if (copies > 0) hop.foreign(id);
      continue;
    }
    hop.in++;
    if (copies === 0 && storage && outcome === "ok" && ackedWhenOk) continue;
    if (copies === 0) {
      hop.lose(id, outcome === "ok" && ackedWhenOk);
      continue;
    }
    hop.duplicate(id, copies - 1);
    if (seen.reordered.has(k)) hop.reorder(id);
  }
  hop.strays = [...seen.strays];
  return hop;
}

/** broker-storage: every acked message, lost when the input drain has no copy of it. */
function keptHop(
  sent: Map<string, Outcome>,
  ids: Map<string, Id>,
  input: Tally,
  inputRecords: DrainedRecord[],
  tail: TailSeen[],
): HopCounts {
  const hop = new HopBuilder("broker-storage");
  for (const [k, id] of ids) {
    if (sent.get(k) !== "ok") continue;
    hop.in++;
    if ((input.copies.get(k) ?? 0) === 0) hop.lose(id, true);
  }
  // sightings of acked messages missing from the drain, at an offset it does not show holding them
  const drained = new Set(
    inputRecords.map((r) => `${r.partition}@${r.offset}=${r.producer}/${r.seq}`),
  );
  const sightings = new Map<string, VisibleLoss & { producer: number; seq: number }>();
  for (const line of tail) {
    if (!isIndex(line.partition)) continue;
    const time = Math.min(0xffffffff, Math.max(0, Math.round(line.time)));
    for (const [offset, producer, seq] of line.records) {
      if (!isIndex(offset) || !isIndex(producer) || !isIndex(seq)) continue;
      if (sent.get(key(producer, seq)) !== "ok") continue;
      if ((input.copies.get(key(producer, seq)) ?? 0) > 0) continue; // kept, somewhere
      const at = `${line.partition}@${offset}=${producer}/${seq}`;
      if (drained.has(at)) continue;
      const was = sightings.get(at);
      if (was && was.time <= time) continue;
      const id = messageId(producer, seq);
      sightings.set(at, { id, partition: line.partition, offset, time, producer, seq });
    }
  }
  const first = new Map<string, VisibleLoss & { producer: number; seq: number }>();
  const byPlace = [...sightings.values()].sort(
    (a, b) => a.partition - b.partition || a.offset - b.offset,
  );
  for (const s of byPlace) if (!first.has(s.id)) first.set(s.id, s);
  const built = hop.build();
  built.lostAfterVisible = first.size;
  built.lostAfterVisibleExamples = [...first.values()]
    .sort((a, b) => byId([a.producer, a.seq], [b.producer, b.seq]))
    .slice(0, LIMIT)
    .map(({ id, partition, offset, time }) => ({ id, partition, offset, time }));
  return built;
}

export function model(feed: Feed[]): ModelResult {
  const events = feed.flatMap((f) => (f.kind === "event" ? [f.event] : []));
  const tail = feed.flatMap((f) => (f.kind === "tail" ? [f.line] : []));
  const hasTail = feed.some((f) => f.kind === "tail");
  const drain = (kind: Feed["kind"]) =>
    feed.flatMap((f) => (f.kind === kind && "record" in f ? [f.record] : []));

  const runs = events.filter((e) => e.type === "run");
  const run = runs.length > 0 ? runs[runs.length - 1]! : null;
  const acksZero = run?.acks === 0;
  const toSink = run?.sink !== undefined;
  const pipeline = run?.topics.output !== undefined || toSink;

  // What the history says about each message.
  const sent = new Map<string, Outcome>();
  const ids = new Map<string, Id>();
  const claim = (producer: number, seq: number, outcome: Outcome) => {
    const k = key(producer, seq);
    const was = sent.get(k);
    if (was === undefined || STRENGTH[outcome] > STRENGTH[was]) sent.set(k, outcome);
    ids.set(k, [producer, seq]);
  };
  let unconfirmedMessages = 0;
  const unconfirmedPartitions = new Set<number>();
  const errors: ErrorGroup[] = [];
  const processor = { processed: 0, aborted: 0, unknown: 0 };
  const processings = new Map<string, number>();
  const abortedOffsets = new Set<string>();
  for (const e of events) {
    if (e.type === "invoke") {
      for (let seq = e.from; seq <= e.to; seq++) claim(e.producer, seq, "pending");
    } else if (e.type === "ok") {
      const ranges = e.unconfirmed?.seqs ?? [];
      for (let seq = e.from; seq <= e.to; seq++) {
        const unconfirmed = ranges.some(([from, to]) => from <= seq && seq <= to);
        claim(e.producer, seq, unconfirmed ? "unknown" : "ok");
        if (unconfirmed) unconfirmedMessages++;
      }
      for (const p of e.unconfirmed?.partitions ?? []) unconfirmedPartitions.add(p);
    } else if (e.type === "fail" || e.type === "unknown") {
      for (let seq = e.from; seq <= e.to; seq++) claim(e.producer, seq, e.type);
      const error = e.error ?? "(no error recorded)";
      const { cause, addresses } = errorCause(error);
      let group = errors.find((g) => g.outcome === e.type && g.cause === cause);
      if (!group) {
        group = { outcome: e.type, cause, error, addresses: [], sends: 0, messages: 0 };
        errors.push(group);
      }
      group.sends++;
      group.messages += e.to - e.from + 1;
      group.addresses = [...new Set([...group.addresses, ...addresses])].slice(0, 10);
    } else if (e.type === "processed") {
      processor[e.outcome === "ok" ? "processed" : e.outcome] += e.items.length;
      if (e.outcome === "ok") {
        for (const [producer, seq] of e.items) {
          if (!isIndex(producer) || !isIndex(seq)) continue;
          const k = key(producer, seq);
          processings.set(k, (processings.get(k) ?? 0) + 1);
          ids.set(k, [producer, seq]);
        }
      }
      if (e.outcome === "aborted") {
        for (const [partition, [base, count]] of Object.entries(e.output ?? {})) {
          for (let offset = base; offset < base + count; offset++) {
            abortedOffsets.add(`${partition}@${offset}`);
          }
        }
      }
    }
  }

  const messages: MessageTotals = { attempted: 0, acked: 0, failed: 0, unknown: 0 };
  for (const outcome of sent.values()) {
    messages.attempted++;
    if (outcome === "ok" && !acksZero) messages.acked++;
    else if (outcome === "fail") messages.failed++;
    else messages.unknown++; // pending (no completion), unknown, or ok under acks=0
  }

  const input = tally(drain("input"));
  const committed = drain("committed");
  const output = tally(toSink ? drain("sink") : committed);
  for (const t of [input, output]) for (const [k, id] of t.ids) ids.set(k, id);
  const ackedWhenOk = !acksZero;
  const storage = hasTail && !acksZero;
  const kept = () => keptHop(sent, ids, input, drain("input"), tail);

  let hops: HopCounts[];
  if (!pipeline) {
    const stored = sentVersusSeen("producer-broker", sent, ids, input, ackedWhenOk, storage);
    const endToEnd = sentVersusSeen("end-to-end", sent, ids, input, ackedWhenOk).build();
    hops = storage ? [stored.build(), kept(), endToEnd] : [stored.build(), endToEnd];
  } else {
    const stored = sentVersusSeen("producer-broker", sent, ids, input, ackedWhenOk, storage);
    const endToEnd = sentVersusSeen("end-to-end", sent, ids, output, ackedWhenOk);
    const consumed = new HopBuilder("broker-consumer");
    const written = new HopBuilder(toSink ? "consumer-sink" : "processor-output");
    for (const [k, id] of ids) {
      const outcome = sent.get(k);
      const storedCopies = input.copies.get(k) ?? 0;
      const oks = processings.get(k) ?? 0;
      const outCopies = output.copies.get(k) ?? 0;
      if (outcome === undefined) {
        // never invoked: unexpected where it was read, nothing else
        if (outCopies > 0) written.foreign(id);
        continue;
      }
      // broker-consumer: stored messages processed ok, or whose output was read anyway
      if (storedCopies > 0) {
        consumed.in++;
        if (oks === 0 && outCopies === 0) consumed.lose(id, outcome === "ok" && ackedWhenOk);
      }
      // each stored copy (at least one) is processed once by right
      consumed.duplicate(id, oks - Math.max(storedCopies, 1));
      if (toSink) {
        // consumer-sink: processed ok or found in the sink; a DB commit without a row is lost
        if (oks > 0 || outCopies > 0) {
          written.in++;
          if (outCopies === 0) written.lose(id, true);
        }
        written.duplicate(id, outCopies - Math.max(storedCopies, 1));
      } else {
        // processor-output: acked output writes that were not read are lost (acked)
        if (oks > 0) {
          written.in++;
          if (outCopies === 0) written.lose(id, true);
        }
        written.duplicate(id, outCopies - Math.max(oks, 1));
      }
      if (outCopies > 0 && output.reordered.has(k)) written.reorder(id);
    }
    written.strays = [...output.strays];

    // output records read inside the output range of an aborted transaction
    const inAborted = (r: DrainedRecord) => abortedOffsets.has(`${r.partition}@${r.offset}`);
    const reads = committed.filter(inAborted);
    const visible = drain("uncommitted").filter(inAborted);
    for (const hop of [written, endToEnd]) {
      hop.abortedReads = reads.length;
      hop.abortedVisible = visible.length;
      hop.abortedExamples = smallest(reads.map((r): Id => [r.producer, r.seq]));
    }
    hops = [stored.build(), consumed.build(), written.build(), endToEnd.build()];
    if (storage) hops.splice(1, 0, kept());
  }

  const times = events.flatMap((e) => ("time" in e ? [e.time] : []));
  return {
    run,
    messages,
    hops,
    processor: pipeline ? processor : null,
    complete: events.some((e) => e.type === "end"),
    durationMs: times.length > 0 ? Math.max(...times) : null,
    unconfirmed: {
      messages: unconfirmedMessages,
      partitions: [...unconfirmedPartitions].sort((a, b) => a - b),
    },
    errors: errors
      .map((g) => ({ ...g, addresses: [...g.addresses].sort() }))
      .sort(
        (a, b) =>
          b.messages - a.messages ||
          a.cause.localeCompare(b.cause) ||
          a.outcome.localeCompare(b.outcome),
      ),
  };
}
