import type { CountName, HopName } from "../history/events.js";

export const CLAIMS = ["at-most-once", "at-least-once", "exactly-once"] as const;
export type Claim = (typeof CLAIMS)[number];

/** Every count a verdict can require to be zero. */
export type CheckedCount = CountName | "unexpected";

/** A check the claim implies, loosened on purpose by the profile (`relax`), with why. */
export interface Relaxation {
  hop: HopName;
  count: CountName;
  reason: string;
}

/** Checked at every hop whatever the claim: no reader may see an aborted record, nor foreign data. */
const EVERY_HOP: readonly CheckedCount[] = ["abortedReads", "unexpected"];

/**
 * Hops where "acked" means a client was told its write was stored (the input producer, and
 * the broker that acknowledged it and must keep it, the processor's output writes, the sink's
 * committed DB transactions): losing such a message is a violation whatever the claim.
 */
export const TOLD_OK_HOPS: readonly HopName[] = [
  "producer-broker",
  "broker-storage",
  "processor-output",
  "consumer-sink",
];

/**
 * What each claim adds. A guarantee is about the final effect, so it is judged end to end (the
 * output topic read_committed, or the sink). Nothing the broker stored may be skipped by a
 * consumer that claims at-least-once or more (broker-consumer: lost). Duplicates at an inner
 * hop are not checked: a later stage may absorb them (an idempotent or atomic sink), and if
 * it does not, they show end to end.
 */
const CLAIM_CHECKS: Record<Claim, Partial<Record<HopName, readonly CountName[]>>> = {
  "at-most-once": { "end-to-end": ["duplicated"] },
  "at-least-once": { "broker-consumer": ["lost"], "end-to-end": ["lostAcked"] },
  "exactly-once": {
    "broker-consumer": ["lost"],
    "end-to-end": ["lost", "duplicated", "abortedReads"],
  },
};

/** The counts the claim alone requires to be zero at a hop. */
export function claimChecks(claim: Claim, hop: HopName): Set<CheckedCount> {
  const checks = new Set<CheckedCount>(EVERY_HOP);
  if (TOLD_OK_HOPS.includes(hop)) checks.add("lostAcked");
  for (const count of CLAIM_CHECKS[claim][hop] ?? []) checks.add(count);
  return checks;
}

/** One row per claim for the README and `profiles`: hop → counts that must be zero. */
export function claimTable(claim: Claim, hops: readonly HopName[]): [HopName, CheckedCount[]][] {
  return hops.map((hop) => [hop, [...claimChecks(claim, hop)]]);
}
