import type { CountName, Expect, HopName } from "../history/events.js";
import type { ExampleName, Examples, HopCounts, Reconciliation } from "./reconcile.js";

/**
 * Which losses a hop tolerates. "any" is never produced: lostAcked must always be zero
 * (semantics: losing a message the client was told is stored is a violation whatever
 * the profile), so the weakest allowance is "unacked". It stays in the type because the
 * report format names it.
 */
export type LossAllowance = "none" | "unacked" | "any";

export interface Allowed {
  loss: LossAllowance;
  duplicates: boolean;
  reorder: boolean;
}

/** Every count a verdict can require to be zero. */
export type CheckedCount = CountName | "abortedReads" | "unexpected";

/** Checked even when the profile does not list them. */
export const ALWAYS_ZERO: readonly CheckedCount[] = ["lostAcked", "abortedReads", "unexpected"];

const CHECK_ORDER: readonly CheckedCount[] = [
  "lost",
  "lostAcked",
  "lostUnacked",
  "duplicated",
  "reordered",
  "abortedReads",
  "unexpected",
];

/** One hop as it appears in the JSON report. */
export interface HopResult {
  name: HopName;
  in: number;
  out: number;
  lost: number;
  lostAcked: number;
  lostUnacked: number;
  duplicated: number;
  /** not measured yet (needs a read_committed drain); always 0 */
  abortedReads: number;
  reordered: number;
  unexpected: number;
  allowed: Allowed;
  ok: boolean;
  examples: Examples;
}

export interface Violation {
  hop: HopName;
  count: CheckedCount;
  value: number;
  /** message ids that prove it (empty for abortedReads) */
  examples: string[];
}

export interface Judgement {
  verdict: "pass" | "violation";
  hops: HopResult[];
  violations: Violation[];
}

export function judge(rec: Reconciliation, expect: Expect): Judgement {
  const hops: HopResult[] = [];
  const violations: Violation[] = [];
  for (const counts of rec.hops) {
    const zero = mustBeZero(expect[counts.name] ?? []);
    const hop = toResult(counts, allowedBy(zero));
    const found = violationsAt(hop, zero);
    hop.ok = found.length === 0;
    hops.push(hop);
    violations.push(...found);
  }
  return { verdict: violations.length === 0 ? "pass" : "violation", hops, violations };
}

/** The counts that must be zero at a hop whose profile lists `listed`. */
export function mustBeZero(listed: readonly CountName[]): Set<CheckedCount> {
  return new Set<CheckedCount>([...ALWAYS_ZERO, ...listed]);
}

export function allowedBy(zero: ReadonlySet<CheckedCount>): Allowed {
  const noLoss = zero.has("lost") || zero.has("lostUnacked");
  return {
    loss: noLoss ? "none" : "unacked",
    duplicates: !zero.has("duplicated"),
    reorder: !zero.has("reordered"),
  };
}

function toResult(counts: HopCounts, allowed: Allowed): HopResult {
  return {
    name: counts.name,
    in: counts.in,
    out: counts.out,
    lost: counts.lost,
    lostAcked: counts.lostAcked,
    lostUnacked: counts.lostUnacked,
    duplicated: counts.duplicated,
    abortedReads: 0,
    reordered: counts.reordered,
    unexpected: counts.unexpected,
    allowed,
    ok: true,
    examples: counts.examples,
  };
}

function violationsAt(hop: HopResult, zero: ReadonlySet<CheckedCount>): Violation[] {
  return CHECK_ORDER.filter((count) => zero.has(count) && hop[count] > 0).map((count) => ({
    hop: hop.name,
    count,
    value: hop[count],
    examples: isExampleName(count) ? [...hop.examples[count]] : [],
  }));
}

function isExampleName(count: CheckedCount): count is ExampleName {
  return count !== "abortedReads";
}
