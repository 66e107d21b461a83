import { countConsumed } from "./broker-consumer.js";
import { countKept } from "./broker-storage.js";
import { countSunk } from "./consumer-sink.js";
import { countDelivered } from "./end-to-end.js";
import { addStrays, countMessage, emptyHop } from "./hop.js";
import { sortedUnion } from "./ids.js";
import { countWritten } from "./processor-output.js";
import { countStored } from "./producer-broker.js";
import {
  copiesOf,
  EMPTY_PAGE,
  NONE,
  OK,
  PAGE_SIZE,
  processingsOf,
  type OutcomeLog,
} from "./storage.js";
import type { ProcessingLog, RecordTally } from "./tallies.js";
import type { HopCounts } from "./types.js";

/**
 * The walks over the state that count the hops: one pass over every (producer, seq) that any
 * part of the state knows, handing each message to the checker of each hop.
 */

/**
 * The hops of a producer-only run, in HOPS order, all judged on the input topic:
 * producer-broker, broker-storage (when `storage`), end-to-end.
 */
export function countInputHops(
  outcomes: OutcomeLog,
  tally: RecordTally,
  acksZero: boolean,
  storage: boolean,
): HopCounts[] {
  const stored = emptyHop("producer-broker");
  const kept = storage ? emptyHop("broker-storage") : null;
  const endToEnd = emptyHop("end-to-end");
  const acked = acksZero ? -1 : OK;
  for (const producer of sortedUnion(outcomes.producerIds(), tally.producerIds())) {
    const sent = outcomes.of(producer);
    const seen = tally.seen(producer);
    const indexes = sortedUnion(sent?.pageIndexes() ?? [], seen?.counts.pageIndexes() ?? []);
    for (const index of indexes) {
      const sentPage = sent?.page(index) ?? EMPTY_PAGE;
      const seenPage = seen?.counts.page(index) ?? EMPTY_PAGE;
      const base = index * PAGE_SIZE;
      // every page is PAGE_SIZE long; a local bound keeps the hot loop free of module lookups
      for (let j = 0; j < sentPage.length; j++) {
        const outcome = sentPage[j]!;
        const mark = seenPage[j]!;
        if ((outcome | mark) === 0) continue;
        const seq = base + j;
        countStored(stored, producer, seq, outcome, mark, seen, acked, kept !== null);
        if (kept) countKept(kept, producer, seq, outcome, mark, seen);
        countDelivered(endToEnd, producer, seq, outcome, mark, seen, acked);
      }
    }
  }
  addStrays(stored, tally);
  addStrays(endToEnd, tally);
  const hops = kept ? [stored, kept, endToEnd] : [stored, endToEnd];
  for (const hop of hops) hop.out = hop.in - hop.lost;
  return hops;
}

export interface PipelineState {
  outcomes: OutcomeLog;
  input: RecordTally;
  processings: ProcessingLog;
  /** the output topic, or the sink's rows */
  output: RecordTally;
  /** processings of input records the topic never committed (aborted reads) */
  abortedProcessings?: ProcessingLog;
}

/** The processor's own hop: to an output topic, or to an external sink. */
export type Stage = "processor-output" | "consumer-sink";

/** The hops of a run with a processor stage, by role. */
export interface PipelineHops {
  stored: HopCounts;
  /** broker-storage, when the run judges it */
  kept: HopCounts | null;
  consumed: HopCounts;
  /** processor-output or consumer-sink */
  written: HopCounts;
  endToEnd: HopCounts;
}

/** The hops of PipelineHops in HOPS order. */
export function inHopsOrder(h: PipelineHops): HopCounts[] {
  const { stored, kept, consumed, written, endToEnd } = h;
  return kept ? [stored, kept, consumed, written, endToEnd] : [stored, consumed, written, endToEnd];
}

/**
 * The hops of a run with a processor stage, in one pass over the state: producer-broker,
 * broker-storage (when `storage`), broker-consumer, `stage`, end-to-end.
 */
export function countPipeline(
  state: PipelineState,
  acksZero: boolean,
  stage: Stage,
  storage: boolean,
): PipelineHops {
  const stored = emptyHop("producer-broker");
  const kept = storage ? emptyHop("broker-storage") : null;
  const consumed = emptyHop("broker-consumer");
  const written = emptyHop(stage);
  const endToEnd = emptyHop("end-to-end");
  const acked = acksZero ? -1 : OK;
  const { outcomes, input, processings, output } = state;
  const producers = sortedUnion(
    sortedUnion(outcomes.producerIds(), input.producerIds()),
    sortedUnion(processings.producerIds(), output.producerIds()),
  );
  for (const producer of producers) {
    const sent = outcomes.of(producer);
    const inSeen = input.seen(producer);
    const done = processings.of(producer);
    const outSeen = output.seen(producer);
    const wrong = state.abortedProcessings?.of(producer);
    const indexes = sortedUnion(
      sortedUnion(sent?.pageIndexes() ?? [], inSeen?.counts.pageIndexes() ?? []),
      sortedUnion(done?.counts.pageIndexes() ?? [], outSeen?.counts.pageIndexes() ?? []),
    );
    for (const index of indexes) {
      const sentPage = sent?.page(index) ?? EMPTY_PAGE;
      const inPage = inSeen?.counts.page(index) ?? EMPTY_PAGE;
      const donePage = done?.counts.page(index) ?? EMPTY_PAGE;
      const outPage = outSeen?.counts.page(index) ?? EMPTY_PAGE;
      const wrongPage = wrong?.counts.page(index) ?? EMPTY_PAGE;
      const base = index * PAGE_SIZE;
      // every page is PAGE_SIZE long; a local bound keeps the hot loop free of module lookups
      for (let j = 0; j < sentPage.length; j++) {
        const outcome = sentPage[j]!;
        const inMark = inPage[j]!;
        const doneMark = donePage[j]!;
        const outMark = outPage[j]!;
        if ((outcome | inMark | doneMark | outMark) === 0) continue;
        const seq = base + j;
        if (outcome !== NONE || inMark !== 0) {
          countStored(stored, producer, seq, outcome, inMark, inSeen, acked, kept !== null);
          if (kept) countKept(kept, producer, seq, outcome, inMark, inSeen);
        }
        if (outcome !== NONE || outMark !== 0) {
          countDelivered(endToEnd, producer, seq, outcome, outMark, outSeen, acked);
        }
        if (outcome === NONE) {
          // Never invoked: reported once per hop as unexpected where it was read.
          if (outMark !== 0) countMessage(written, producer, seq, outcome, outMark, outSeen, acked);
          continue;
        }
        const oks = processingsOf(doneMark, seq, done);
        const outCopies = copiesOf(outMark, seq, outSeen);
        const storedCopies = copiesOf(inMark, seq, inSeen);
        // A processing of an aborted copy is the consumer's aborted read, not a re-delivery.
        const rightful = oks - processingsOf(wrongPage[j]!, seq, wrong);
        countConsumed(
          consumed,
          producer,
          seq,
          outcome === acked,
          storedCopies,
          rightful,
          outCopies,
        );
        if (stage === "consumer-sink") {
          countSunk(written, producer, seq, { oks, rows: outCopies, storedCopies }, outMark);
        } else {
          countWritten(written, producer, seq, oks, outCopies, outMark);
        }
      }
    }
  }
  addStrays(stored, input);
  addStrays(written, output);
  addStrays(endToEnd, output);
  const hops = { stored, kept, consumed, written, endToEnd };
  for (const hop of inHopsOrder(hops)) hop.out = hop.in - hop.lost;
  return hops;
}
