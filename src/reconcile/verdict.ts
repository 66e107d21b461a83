import type { CountName, Expect, HopName } from "../history/events.js";
import {
  claimChecks,
  TOLD_OK_HOPS,
  type CheckedCount,
  type Claim,
  type Relaxation,
} from "./claims.js";
import { EXAMPLE_NAMES, type HopCounts, type Reconciliation } from "./reconcile.js";

/**
 * Which losses a hop tolerates: "none", only messages never acked ("unacked"), or "any" (at
 * broker-consumer and end to end of a profile that lists no loss count: an at-most-once
 * consumer may skip stored messages).
 */
export type LossAllowance = "none" | "unacked" | "any";

export interface Allowed {
  loss: LossAllowance;
  duplicates: boolean;
  reorder: boolean;
}

export type { CheckedCount } from "./claims.js";

/** Checked even when the profile does not list them (lostAcked: only where a client was told ok). */
export const ALWAYS_ZERO: readonly CheckedCount[] = ["lostAcked", "abortedReads", "unexpected"];

/** Violations are listed in the order of the example lists: the same counts, in report order. */
const CHECK_ORDER: readonly CheckedCount[] = EXAMPLE_NAMES;

/** One hop as it appears in the JSON report: its counts, what the profile allows, and whether it held. */
export interface HopResult extends HopCounts {
  allowed: Allowed;
  ok: boolean;
}

export interface Violation {
  hop: HopName;
  count: CheckedCount;
  value: number;
  /** message ids that prove it */
  examples: string[];
}

export interface Judgement {
  verdict: "pass" | "violation";
  hops: HopResult[];
  violations: Violation[];
  /** checks the claim implies that the profile relaxed, at hops this run has */
  relaxed: Relaxation[];
}

/** What a profile asks of a run: its claim sets the checks, `expect` adds, `relax` removes. */
export interface Policy {
  claims: Claim;
  relax?: readonly Relaxation[];
}

/**
 * Judges every hop of the reconciliation: the claim's checks (see claims.ts), plus `expect`,
 * minus `relax`. Without a policy only `expect` and the always-checked counts apply. The
 * profile's `expect` may name any hop; a hop the reconciliation does not have (a
 * producer-only run has no processor hops) is not judged.
 */
export function judge(rec: Reconciliation, expect: Expect, policy?: Policy): Judgement {
  const hops: HopResult[] = [];
  const violations: Violation[] = [];
  const relaxed: Relaxation[] = [];
  const unfinished = rec.endReason !== "completed" && rec.processor !== null;
  for (const counts of rec.hops) {
    const zero = mustBeZero(expect[counts.name] ?? [], counts.name, policy?.claims);
    for (const r of policy?.relax ?? []) {
      if (r.hop !== counts.name || !zero.delete(r.count)) continue;
      relaxed.push({ ...r });
    }
    // A run stopped early stopped its processor too: what it never got to is no loss. Loss of
    // what it did process (processor-output, consumer-sink) is still judged.
    if (unfinished && UNFINISHED_HOPS.includes(counts.name))
      LOSS_COUNTS.forEach((c) => zero.delete(c));
    const hop = toResult(counts, allowedBy(zero));
    const found = violationsAt(hop, zero);
    hop.ok = found.length === 0;
    hops.push(hop);
    violations.push(...found);
  }
  return { verdict: violations.length === 0 ? "pass" : "violation", hops, violations, relaxed };
}

const LOSS_COUNTS: readonly CheckedCount[] = ["lost", "lostAcked", "lostUnacked"];
const UNFINISHED_HOPS: readonly HopName[] = ["broker-consumer", "end-to-end"];

/** The counts that must be zero at a hop whose profile lists `listed` (and claims `claim`). */
export function mustBeZero(
  listed: readonly CountName[],
  hop: HopName,
  claim?: Claim,
): Set<CheckedCount> {
  const base = claim
    ? claimChecks(claim, hop)
    : ALWAYS_ZERO.filter((c) => c !== "lostAcked" || TOLD_OK_HOPS.includes(hop));
  return new Set<CheckedCount>([...base, ...listed]);
}

export function allowedBy(zero: ReadonlySet<CheckedCount>): Allowed {
  const noLoss = zero.has("lost") || (zero.has("lostUnacked") && zero.has("lostAcked"));
  return {
    loss: noLoss ? "none" : zero.has("lostAcked") ? "unacked" : "any",
    duplicates: !zero.has("duplicated"),
    reorder: !zero.has("reordered"),
  };
}

function toResult(counts: HopCounts, allowed: Allowed): HopResult {
  return { ...counts, allowed, ok: true };
}

function violationsAt(hop: HopResult, zero: ReadonlySet<CheckedCount>): Violation[] {
  return CHECK_ORDER.filter((count) => zero.has(count) && hop[count] > 0).map((count) => ({
    hop: hop.name,
    count,
    value: hop[count],
    examples: [...hop.examples[count]],
  }));
}
