/**
 * `explore`: search fault schedules until the profile's claim breaks, confirm the finding by
 * replaying it, then shrink it to a minimal case. The trials themselves are run by the caller
 * (`runTrial`: a real run, or a fake judge in tests), so this file is the search and nothing
 * else.
 */
import { mulberry32 } from "../random.js";
import type { Profile } from "../profiles/schema.js";
import { baseCase, caseJson, type Case } from "./case.js";
import { drawCase, type Scope } from "./generate.js";
import { shrink, type ShrinkResult } from "./shrink.js";

/** One violated check: the hop and the kind of count (e.g. producer-broker, lostAcked). */
export interface Signature {
  hop: string;
  count: string;
}

export interface TrialOutcome {
  /** the run's exit code: 0 pass, 1 violation, 2 the case cannot run, 3 infrastructure */
  exitCode: number;
  violations: (Signature & { value: number })[];
  durationMs: number;
  /** how long the producers sent, when the run got that far */
  sendMs?: number;
  /** the run directory */
  dir?: string;
  /** exit 2 or 3: what went wrong */
  error?: string;
  interrupted?: boolean;
}

export type Phase = "baseline" | "search" | "confirm" | "shrink" | "validate";

export interface Trial extends TrialOutcome {
  n: number;
  phase: Phase;
  case: Case;
}

export type RunTrial = (c: Case, n: number, phase: Phase) => Promise<TrialOutcome>;

export interface ExploreOptions {
  profile: Profile;
  /** the scope without expectedMs: that comes from the baseline when the rate does not say it */
  scope: Omit<Scope, "expectedMs">;
  seed: number;
  budgetMs: number;
  /** most search trials (the baseline not counted); unlimited when absent */
  maxTrials?: number;
  /** K: a finding must violate again in K of K replays, and so must each kept shrink step */
  replays: number;
  runTrial: RunTrial;
  /** why a drawn case cannot run here (the run's own refusals), or undefined */
  refuses?: (c: Case) => Promise<string | undefined>;
  onTrial?: (t: Trial) => void;
  now?: () => number;
  signal?: AbortSignal;
}

export interface Finding {
  signature: Signature;
  /** the search trial that found it */
  trial: number;
  original: Case;
  /** replays of the original that violated the same check, of `replays` */
  reproduced: number;
  replays: number;
  flaky: boolean;
  /** absent for a flaky finding: only what reproduces K of K is shrunk */
  shrink?: ShrinkResult;
  /**
   * the minimal case's K extra replays that showed the violation (K: it held; the minimal is the
   * last kept case that held, or the original)
   */
  validated?: number;
  minimal: Case;
  /** the directory of a run of the minimal case that shows the violation */
  minimalDir?: string;
}

export interface Exploration {
  outcome: "violation" | "none" | "infrastructure" | "interrupted";
  seed: number;
  groups: readonly string[];
  trials: Trial[];
  /** kinds of fault drawn in the search, with how many times */
  drawn: Record<string, number>;
  /** drawn cases the run would have refused (not run, not counted as trials) */
  refused: number;
  /** the finding: one that reproduced K of K and was shrunk, else the first flaky one */
  finding: Finding | null;
  /** findings that did not reproduce K of K replays (the search went on after each) */
  flaky: Finding[];
  durationMs: number;
}

export async function explore(opts: ExploreOptions): Promise<Exploration> {
  const now = opts.now ?? Date.now;
  const started = now();
  const random = mulberry32(opts.seed);
  const trials: Trial[] = [];
  const drawn: Record<string, number> = {};
  let refused = 0;
  const flaky: Finding[] = [];
  const budgetLeft = () => now() - started < opts.budgetMs && !opts.signal?.aborted;
  const run = async (c: Case, phase: Phase): Promise<Trial> => {
    const trial = {
      n: trials.length + 1,
      phase,
      case: c,
      ...(await opts.runTrial(c, trials.length + 1, phase)),
    };
    trials.push(trial);
    opts.onTrial?.(trial);
    return trial;
  };
  const result = (outcome: Exploration["outcome"], finding: Finding | null): Exploration => ({
    outcome,
    seed: opts.seed,
    groups: opts.scope.groups,
    trials,
    drawn,
    refused,
    finding,
    flaky,
    durationMs: now() - started,
  });

  // The baseline: the profile with no fault. It times the workload, and a pipeline that breaks
  // with nothing broken is a finding of its own.
  const baseline = await run(baseCase(opts.profile, Math.floor(random() * 2 ** 31)), "baseline");
  if (baseline.interrupted) return result("interrupted", null);
  if (baseline.exitCode === 3) return result("infrastructure", null);
  const scope: Scope = { ...opts.scope, expectedMs: expectedMs(opts.profile, baseline) };
  const confirmOf = async (found: Trial): Promise<Finding> => {
    const signature = pick(found);
    const confirmation = await confirm(
      found.case,
      opts.replays,
      (c) => run(c, "confirm"),
      signature,
    );
    return {
      signature,
      trial: found.n,
      original: found.case,
      reproduced: confirmation.reproduced,
      replays: opts.replays,
      flaky: confirmation.reproduced < opts.replays,
      minimal: found.case,
      ...minimalDirOf(confirmation.lastDir ?? found.dir),
    };
  };

  // A finding that does not reproduce K of K is kept aside and the search goes on for one that
  // does: only that can be shrunk. The first flaky one is the answer when none does.
  let finding: Finding | undefined = violated(baseline) ? await confirmOf(baseline) : undefined;
  if (finding?.flaky) flaky.push(finding);
  let searched = 0;
  while ((!finding || finding.flaky) && budgetLeft() && searched < (opts.maxTrials ?? Infinity)) {
    const c = drawCase(opts.profile, scope, random);
    const refusal = opts.refuses ? await opts.refuses(c) : undefined;
    if (refusal !== undefined) {
      refused += 1;
      if (refused > 50 + 10 * searched) break;
      continue;
    }
    for (const f of c.faults) drawn[f.type] = (drawn[f.type] ?? 0) + 1;
    searched += 1;
    const trial = await run(c, "search");
    if (trial.interrupted) break;
    if (!violated(trial)) continue;
    finding = await confirmOf(trial);
    if (finding.flaky) flaky.push(finding);
  }
  if (opts.signal?.aborted) return result("interrupted", finding ?? null);
  if (!finding || finding.flaky) {
    if (flaky[0]) return result("violation", flaky[0]);
    const infra = trials.filter((t) => t.exitCode === 3).length;
    return result(infra * 2 > trials.length ? "infrastructure" : "none", null);
  }

  const { signature } = finding;
  let minimalDir = finding.minimalDir;
  // A step is kept only when K of K replays show the violation; it stops at the first that does not.
  const fails = async (c: Case) => {
    for (let i = 0; i < opts.replays; i += 1) {
      const t = await run(c, "shrink");
      if (!shows(t, signature)) return { failed: false, replays: i + 1 };
      if (i === opts.replays - 1) minimalDir = t.dir ?? minimalDir;
    }
    return { failed: true, replays: opts.replays };
  };
  const shrunk = await shrink(opts.profile, finding.original, fails, budgetLeft);
  // K more replays of the minimal case: a step kept on K lucky replays would give a replay
  // profile that does not reproduce. Where it fails, step back along the kept cases.
  let validated = {
    case: finding.original,
    reproduced: finding.reproduced,
    dir: finding.minimalDir,
  };
  for (const c of [...shrunk.chain].reverse()) {
    if (c === finding.original) break;
    const check = await confirm(c, opts.replays, (x) => run(x, "validate"), signature);
    if (check.reproduced === opts.replays) {
      validated = { case: c, reproduced: check.reproduced, dir: check.lastDir ?? minimalDir };
      break;
    }
    if (opts.signal?.aborted) break;
  }
  return result(opts.signal?.aborted ? "interrupted" : "violation", {
    ...finding,
    shrink: shrunk,
    minimal: validated.case,
    validated: validated.reproduced,
    ...minimalDirOf(validated.dir),
  });
}

function minimalDirOf(dir: string | undefined): { minimalDir?: string } {
  return dir === undefined ? {} : { minimalDir: dir };
}

/** Replays every time (the rate is part of the report), unlike a shrink step that stops early. */
async function confirm(
  c: Case,
  replays: number,
  run: (c: Case) => Promise<Trial>,
  signature: Signature,
): Promise<{ reproduced: number; lastDir?: string }> {
  let reproduced = 0;
  let lastDir: string | undefined;
  for (let i = 0; i < replays; i += 1) {
    const t = await run(c);
    if (shows(t, signature)) {
      reproduced += 1;
      lastDir = t.dir ?? lastDir;
    }
  }
  return { reproduced, ...(lastDir ? { lastDir } : {}) };
}

function violated(t: TrialOutcome): boolean {
  return t.exitCode === 1 && t.violations.length > 0;
}

/** The violation a finding is about: the first the report lists (hops in pipeline order). */
function pick(t: TrialOutcome): Signature {
  const { hop, count } = t.violations[0]!;
  return { hop, count };
}

export function shows(t: TrialOutcome, s: Signature): boolean {
  return t.exitCode === 1 && t.violations.some((v) => v.hop === s.hop && v.count === s.count);
}

/**
 * How long the workload sends: messages / rate when paced, else what the baseline took.
 * Faults placed by time land inside that window.
 */
function expectedMs(profile: Profile, baseline: TrialOutcome): number {
  const { messages, rate } = profile.workload;
  if (rate > 0) return Math.round((messages / rate) * 1000);
  return baseline.sendMs ?? 0;
}

/** summary.json: every trial, the shrink steps, the minimal case. */
export function summaryOf(e: Exploration, profile: string) {
  return {
    profile,
    seed: e.seed,
    kinds: e.groups,
    outcome: e.outcome,
    durationMs: e.durationMs,
    drawn: e.drawn,
    refused: e.refused,
    trials: e.trials.map((t) => ({
      n: t.n,
      phase: t.phase,
      ...caseJson(t.case),
      exitCode: t.exitCode,
      verdict: t.exitCode === 0 ? "pass" : t.exitCode === 1 ? "violation" : "not judged",
      violations: t.violations.map((v) => `${v.hop} ${v.count} = ${v.value}`),
      durationMs: t.durationMs,
      ...(t.dir ? { dir: t.dir } : {}),
      ...(t.error ? { error: t.error } : {}),
    })),
    finding: e.finding && {
      signature: e.finding.signature,
      trial: e.finding.trial,
      reproduced: `${e.finding.reproduced}/${e.finding.replays}`,
      flaky: e.finding.flaky,
      original: caseJson(e.finding.original),
      minimal: caseJson(e.finding.minimal),
      shrink: e.finding.shrink
        ? { stoppedBy: e.finding.shrink.stoppedBy, steps: e.finding.shrink.steps }
        : null,
      validated:
        e.finding.validated === undefined ? null : `${e.finding.validated}/${e.finding.replays}`,
    },
    flaky: e.flaky.map((f) => ({
      signature: f.signature,
      trial: f.trial,
      reproduced: `${f.reproduced}/${f.replays}`,
      case: caseJson(f.original),
    })),
  };
}
