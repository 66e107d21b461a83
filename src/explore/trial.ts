/**
 * A trial of the exploration as a real run: the user's profile with the case's schedule, its own
 * run directory, topics under its own prefix, cleanup, watchdog and exit 3, exactly as `run`.
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { errorText, exitCodeOf } from "../errors.js";
import type { Profile } from "../profiles/schema.js";
import { produceStats } from "../report/latency.js";
import { runFiles } from "../run/run-dir.js";
import { Cluster } from "../run/cluster.js";
import { runChaos, type RunOptions } from "../run/run.js";
import { directClient } from "../clients/kafkajs.js";
import { profileOf } from "./case.js";
import type { Phase, RunTrial, TrialOutcome } from "./explore.js";

export type TrialSettings = Omit<RunOptions, "profile" | "seed" | "outDir" | "signal"> & {
  /** where the trials' run directories go: <root>/trials/007-search */
  root: string;
  /** Ctrl-C: stops the trial that runs and the exploration */
  signal?: AbortSignal;
  /** a trial that runs longer is stopped and counted as exit 3 */
  maxTrialMs: number;
  /** the brokers the cluster had when the exploration began: each trial waits for all of them */
  brokers: number;
};

/** How long a trial waits for the brokers an earlier trial's fault took down to be back. */
const RECOVERY_MS = 90_000;

export function trialDir(root: string, n: number, phase: Phase): string {
  return path.join(root, "trials", `${String(n).padStart(3, "0")}-${phase}`);
}

export function runTrials(profile: Profile, settings: TrialSettings): RunTrial {
  const { root, signal, maxTrialMs, brokers, ...run } = settings;
  return async (c, n, phase) => {
    const dir = trialDir(root, n, phase);
    const started = Date.now();
    // An earlier trial's broker fault healed, but the broker may still be rejoining: a trial on a
    // cluster short of a broker would be judged for what the one before it did.
    const missing = await waitForBrokers(run, brokers, RECOVERY_MS);
    if (missing !== undefined) {
      return {
        exitCode: 3,
        violations: [],
        durationMs: Date.now() - started,
        error: `the cluster has ${missing} of its ${brokers} brokers ${RECOVERY_MS / 1000} s after the last trial`,
      };
    }
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

/** Waits until the cluster lists `want` brokers; the count seen last when it never does. */
async function waitForBrokers(
  access: Pick<TrialSettings, "bootstrap" | "connection">,
  want: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    const cluster = await Cluster.connect(
      directClient("kc-explore", access.bootstrap, access.connection),
      access.bootstrap,
    ).catch(() => undefined);
    seen = cluster?.brokers.length ?? 0;
    await cluster?.close();
    if (seen >= want) return undefined;
    await sleep(1000);
  }
  return seen;
}
