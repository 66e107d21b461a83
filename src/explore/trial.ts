/**
 * A trial of the exploration as a real run: the user's profile with the case's schedule, its own
 * run directory, topics under its own prefix, cleanup, watchdog and exit 3, exactly as `run`.
 */
import path from "node:path";
import { errorText, exitCodeOf } from "../errors.js";
import type { Profile } from "../profiles/schema.js";
import { produceStats } from "../report/latency.js";
import { runFiles } from "../run/run-dir.js";
import { runChaos, type RunOptions } from "../run/run.js";
import { profileOf } from "./case.js";
import type { Phase, RunTrial, TrialOutcome } from "./explore.js";

export type TrialSettings = Omit<RunOptions, "profile" | "seed" | "outDir" | "signal"> & {
  /** where the trials' run directories go: <root>/trials/007-search */
  root: string;
  /** Ctrl-C: stops the trial that runs and the exploration */
  signal?: AbortSignal;
  /** a trial that runs longer is stopped and counted as exit 3 */
  maxTrialMs: number;
};

export function trialDir(root: string, n: number, phase: Phase): string {
  return path.join(root, "trials", `${String(n).padStart(3, "0")}-${phase}`);
}

export function runTrials(profile: Profile, settings: TrialSettings): RunTrial {
  const { root, signal, maxTrialMs, ...run } = settings;
  return async (c, n, phase) => {
    const dir = trialDir(root, n, phase);
    const started = Date.now();
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort);
    const guard = setTimeout(() => stop.abort(), maxTrialMs);
    const failed = (exitCode: number, error: string): TrialOutcome => ({
      exitCode,
      violations: [],
      durationMs: Date.now() - started,
      dir,
      error,
    });
    try {
      const result = await runChaos({
        ...run,
        profile: profileOf(profile, c),
        seed: c.seed,
        outDir: dir,
        signal: stop.signal,
      });
      if (result.interrupted) {
        if (signal?.aborted) return { ...failed(130, "interrupted"), interrupted: true };
        return failed(
          3,
          `the trial ran longer than ${Math.round(maxTrialMs / 1000)} s and was stopped`,
        );
      }
      const { report } = result;
      const stats = await produceStats(runFiles(dir).history).catch(() => undefined);
      return {
        exitCode: report.verdict === "pass" ? 0 : 1,
        violations: report.violations.map(({ hop, count, value }) => ({ hop, count, value })),
        durationMs: Date.now() - started,
        ...(stats ? { sendMs: stats.windowMs } : {}),
        dir,
      };
    } catch (err) {
      return failed(exitCodeOf(err), errorText(err));
    } finally {
      clearTimeout(guard);
      signal?.removeEventListener("abort", onAbort);
    }
  };
}
