/**
 * A case of the exploration: one fault schedule and the workload knobs the shrinker may cut,
 * on top of the user's profile. Pure.
 */
import { formatFault, type Fault } from "../faults/spec.js";
import { faultProblem, type Profile } from "../profiles/schema.js";

export interface Case {
  /** every fault placed: `at` set, or a self-triggered crash's `after` */
  faults: Fault[];
  messages: number;
  /** messages per second, 0 = as fast as possible */
  rate: number;
  partitions: number;
  /** the built-in processor's workers; 0 for a pipeline without it */
  workers: number;
  /** the run's seed: what `target=random` and other in-run draws use */
  seed: number;
}

/** What the case leaves of the profile's workload (no faults yet). */
export function baseCase(profile: Profile, seed: number): Case {
  return {
    faults: [],
    messages: profile.workload.messages,
    rate: profile.workload.rate,
    partitions: profile.workload.partitions,
    workers: profile.processor.enabled && !profile.app ? profile.processor.workers : 0,
    seed,
  };
}

/** The profile a trial of this case runs: the user's, with the case's schedule and knobs. */
export function profileOf(profile: Profile, c: Case): Profile {
  return {
    ...profile,
    workload: { ...profile.workload, messages: c.messages, rate: c.rate, partitions: c.partitions },
    processor: c.workers > 0 ? { ...profile.processor, workers: c.workers } : profile.processor,
    faults: c.faults,
  };
}

/** Why the case cannot run on the profile (a fault that does not fit it), or undefined. */
export function caseProblem(profile: Profile, c: Case): string | undefined {
  const p = profileOf(profile, c);
  for (const fault of c.faults) {
    const found = faultProblem(fault, p.processor, p.sink, p.app);
    if (found) return `${formatFault(fault)}: ${found.key}: ${found.problem}`;
  }
  return undefined;
}

/** The schedule as the spec strings `--fault` takes. */
export function scheduleOf(c: Case): string[] {
  return c.faults.map(formatFault);
}

/** One line: the schedule and the knobs, for progress lines and the summary. */
export function describeCase(c: Case): string {
  const schedule = c.faults.length === 0 ? "no faults" : scheduleOf(c).join(" + ");
  const rate = c.rate > 0 ? `${c.rate} msg/s` : "unlimited";
  const workers = c.workers > 0 ? `, ${c.workers} worker(s)` : "";
  return `${schedule} | ${c.messages} msgs, ${rate}, ${c.partitions} partition(s)${workers}, seed ${c.seed}`;
}

/** The case as plain JSON (summary.json). */
export function caseJson(c: Case) {
  return {
    schedule: scheduleOf(c),
    messages: c.messages,
    rate: c.rate,
    partitions: c.partitions,
    workers: c.workers,
    seed: c.seed,
  };
}
