import { messageId } from "../history/events.js";
import { compareIds } from "./ids.js";
import { EXAMPLE_LIMIT, EXAMPLE_NAMES, type Examples, type HopCounts } from "./types.js";

/** The message ids shown behind each count: at most EXAMPLE_LIMIT per list. */

/** The smallest distinct message ids offered, by producer then seq, at most EXAMPLE_LIMIT. */
export class SmallestIds {
  private readonly ids: [number, number][] = [];

  offer(producer: number, seq: number): void {
    const { ids } = this;
    let i = ids.length;
    while (i > 0 && compareIds(ids[i - 1]!, producer, seq) > 0) i--;
    const before = ids[i - 1];
    if (before && before[0] === producer && before[1] === seq) return;
    if (i >= EXAMPLE_LIMIT) return;
    ids.splice(i, 0, [producer, seq]);
    if (ids.length > EXAMPLE_LIMIT) ids.pop();
  }

  list(): string[] {
    return this.ids.map(([producer, seq]) => messageId(producer, seq));
  }
}

export function emptyExamples(): Examples {
  return {
    lost: [],
    lostAcked: [],
    lostUnacked: [],
    duplicated: [],
    reordered: [],
    abortedReads: [],
    unexpected: [],
  };
}

export function copyExamples(hop: HopCounts): Examples {
  const copy = emptyExamples();
  for (const name of EXAMPLE_NAMES) copy[name] = [...hop.examples[name]];
  return copy;
}

export function addExample(ids: string[], id: string): void {
  if (ids.length < EXAMPLE_LIMIT) ids.push(id);
}
