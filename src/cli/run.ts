import fs from "node:fs";
import { parseDuration } from "../faults/spec.js";
import { claimWarnings } from "../profiles/claim-warnings.js";
import { applyOverrides, loadProfile } from "../profiles/load.js";
import { publishToGithub } from "../report/github.js";
import { renderJunit } from "../report/junit.js";
import type { Report } from "../report/report.js";
import { planRun } from "../run/plan.js";
import { connectionFrom, type ConnectionFlags } from "../clients/connection.js";
import { reconcileDir, runChaos } from "../run/run.js";
import { emitReport, verdictCode } from "./output.js";
import { progressView } from "./progress.js";

interface RunFlags extends ConnectionFlags {
  profile: string;
  bootstrap: string;
  toxiproxy: string;
  messages?: number;
  client?: string;
  duration?: string;
  seed?: number;
  fault: string[];
  topicPrefix?: string;
  out?: string;
  json?: string;
  junit?: string;
  keep: boolean;
  maxDuration?: string;
  stallLimit?: string;
  quiet?: boolean;
  dryRun: boolean;
  proxyHost?: string;
  proxyPorts?: number;
}

export const INTERRUPTED = 130;

export async function runCommand(flags: RunFlags): Promise<number> {
  const profile = applyOverrides(await loadProfile(flags.profile), {
    messages: flags.messages,
    duration: flags.duration,
    faults: flags.fault,
    client: flags.client,
  });
  if (flags.dryRun) {
    const plan = await planRun({
      profile,
      bootstrap: flags.bootstrap,
      toxiproxy: flags.toxiproxy,
      seed: flags.seed,
      topicPrefix: flags.topicPrefix,
      connection: connectionFrom(flags),
      proxyHost: flags.proxyHost,
      proxyPortBase: flags.proxyPorts,
    });
    process.stdout.write(plan);
    return 0;
  }
  // Before the run, so a user watching knows which violation the run is about to show.
  for (const w of claimWarnings(profile)) console.error(`warning: ${w}`);
  const maxDurationMs =
    flags.maxDuration === undefined
      ? undefined
      : parseDuration(flags.maxDuration, "--max-duration");
  const stallLimitMs = stallLimitOf(flags.stallLimit);
  const view = progressView({
    stream: process.stderr,
    quiet: flags.quiet === true,
    title: profile.name,
  });
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(INTERRUPTED);
    view.info("interrupted: healing faults and removing proxies (Ctrl-C again to force)");
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let overran = false;
  const guard =
    maxDurationMs === undefined
      ? undefined
      : setTimeout(() => {
          overran = true;
          interrupt.abort();
        }, maxDurationMs);
  try {
    const result = await runChaos({
      profile,
      bootstrap: flags.bootstrap,
      toxiproxy: flags.toxiproxy,
      seed: flags.seed,
      topicPrefix: flags.topicPrefix,
      outDir: flags.out,
      keep: flags.keep,
      connection: connectionFrom(flags),
      proxyHost: flags.proxyHost,
      proxyPortBase: flags.proxyPorts,
      signal: interrupt.signal,
      ...(stallLimitMs === undefined ? {} : { stallLimitMs }),
      onProgress: (p, faults, processed) => view.update(p, faults, processed),
    });
    view.stop();
    if (result.interrupted && overran) {
      console.error(
        `kafka-chaos: the run exceeded --max-duration ${flags.maxDuration} and was stopped; ` +
          `it was not judged. Judge what happened with: kafka-chaos reconcile ${result.dir}`,
      );
      return 3;
    }
    if (result.interrupted) {
      console.error(
        `kafka-chaos: run interrupted; its topic is kept. Judge it with: kafka-chaos reconcile ${result.dir}`,
      );
      return INTERRUPTED;
    }
    publish(result.report, flags);
    if (flags.json !== "-") console.error(`run directory: ${result.dir}`);
    return verdictCode(result.report);
  } finally {
    clearTimeout(guard);
    view.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** --stall-limit: a duration; 0 turns stall detection off. Undefined: the profile's setting. */
export function stallLimitOf(flag: string | undefined): number | undefined {
  if (flag === undefined) return undefined;
  const ms = parseDuration(flag, "--stall-limit");
  return ms === 0 ? Number.POSITIVE_INFINITY : ms;
}

export async function reconcileCommand(
  dir: string,
  flags: { json?: string; junit?: string } & ConnectionFlags,
): Promise<number> {
  const report = await reconcileDir(dir, connectionFrom(flags));
  publish(report, flags);
  return verdictCode(report);
}

/** Table or JSON, plus the CI-gate outputs: JUnit XML and, in GitHub Actions, a summary. */
function publish(report: Report, flags: { json?: string; junit?: string }): void {
  emitReport(report, flags.json);
  if (flags.junit) fs.writeFileSync(flags.junit, renderJunit([report]));
  publishToGithub(report, process.env, flags.json === "-");
}
