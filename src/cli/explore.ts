import path from "node:path";
import ora from "ora";
import { UsageError } from "../errors.js";
import { describeCase } from "../explore/case.js";
import { explore, type Exploration, type Trial } from "../explore/explore.js";
import { KIND_GROUPS, kindsFor, type KindGroup } from "../explore/generate.js";
import { writeExploration, type Written } from "../explore/output.js";
import { probeScope, runRefusals, type ClusterAccess } from "../explore/scope.js";
import { runTrials } from "../explore/trial.js";
import { parseDuration } from "../faults/spec.js";
import { applyOverrides, loadProfile } from "../profiles/load.js";
import { connectionFrom, type ConnectionFlags } from "../clients/connection.js";
import { INTERRUPTED } from "./run.js";

interface ExploreFlags extends ConnectionFlags {
  profile: string;
  bootstrap: string;
  toxiproxy: string;
  budget: string;
  runs?: number;
  seed?: number;
  kinds?: string;
  replays: number;
  messages?: number;
  client?: string;
  trialTimeout?: string;
  out?: string;
  proxyHost?: string;
  proxyPorts?: number;
}

export async function exploreCommand(flags: ExploreFlags): Promise<number> {
  const profile = applyOverrides(await loadProfile(flags.profile), {
    messages: flags.messages,
    client: flags.client,
    faults: ["none"],
  });
  const budgetMs = parseDuration(flags.budget, "--budget");
  const maxTrialMs = parseDuration(flags.trialTimeout ?? "5m", "--trial-timeout");
  const groups = kindsOf(flags.kinds);
  const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
  const root = path.resolve(flags.out ?? path.join("kafka-chaos-runs", `explore-${Date.now()}`));
  const access: ClusterAccess = {
    bootstrap: flags.bootstrap,
    toxiproxy: flags.toxiproxy,
    connection: connectionFrom(flags),
    proxyHost: flags.proxyHost,
    proxyPortBase: flags.proxyPorts,
  };
  const scope = await probeScope(profile, groups, access);
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(INTERRUPTED);
    console.error("interrupted: stopping the trial that runs (Ctrl-C again to force)");
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const started = Date.now();
  const view = trialView(budgetMs, started);
  const kinds = kindsFor(profile, { ...scope, expectedMs: 0 }).map((k) => k.type);
  if (kinds.length === 0) {
    throw new UsageError(
      `--kinds ${groups.join(",")}: no fault kind of these fits profile ${profile.name} on this cluster`,
    );
  }
  console.error(
    `exploring ${profile.name} (claims ${profile.claims}) with seed ${seed}, budget ${flags.budget}, drawing from: ${kinds.join(", ")}`,
  );
  if (groups.includes("broker") && !scope.available.has("brokers")) {
    console.error(
      "no broker faults: the cluster has one broker, or is not the local stack and has no broker commands",
    );
  }
  try {
    const e = await explore({
      profile,
      scope,
      seed,
      budgetMs,
      replays: flags.replays,
      ...(flags.runs === undefined ? {} : { maxTrials: flags.runs }),
      runTrial: runTrials(profile, {
        ...access,
        root,
        signal: interrupt.signal,
        maxTrialMs,
        brokers: scope.brokerIds.length,
      }),
      refuses: runRefusals(profile, access),
      onTrial: view.trial,
      signal: interrupt.signal,
    });
    view.stop();
    const written = writeExploration(root, profile, e);
    console.log(conclusion(e, written));
    return exitCodeOf(e);
  } finally {
    view.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function kindsOf(flag: string | undefined): KindGroup[] {
  if (flag === undefined) return [...KIND_GROUPS];
  const asked = flag
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  for (const k of asked) {
    if (!(KIND_GROUPS as readonly string[]).includes(k)) {
      throw new UsageError(`--kinds: unknown kind "${k}"; allowed: ${KIND_GROUPS.join(", ")}`);
    }
  }
  if (asked.length === 0)
    throw new UsageError(`--kinds: name one or more of ${KIND_GROUPS.join(", ")}`);
  return asked as KindGroup[];
}

export function exitCodeOf(e: Exploration): number {
  switch (e.outcome) {
    case "violation":
      return 1;
    case "none":
      return 0;
    case "infrastructure":
      return 3;
    case "interrupted":
      return INTERRUPTED;
  }
}

/** One line per trial, kept; on a terminal a spinner below them with the counts. */
function trialView(budgetMs: number, started: number) {
  const spinner = process.stderr.isTTY
    ? ora({ stream: process.stderr }).start("baseline run")
    : undefined;
  let violations = 0;
  let done = 0;
  return {
    trial(t: Trial) {
      done += 1;
      if (t.exitCode === 1) violations += 1;
      const line = trialLine(t);
      if (spinner) spinner.stopAndPersist({ symbol: " ", text: line }).start();
      else console.error(line);
      if (spinner) {
        const left = Math.max(0, budgetMs - (Date.now() - started));
        spinner.text = `${done} trial(s), ${formatMs(left)} of budget left, ${violations} violation(s) seen`;
      }
    },
    stop: () => spinner?.stop(),
  };
}

export function trialLine(t: Trial): string {
  const verdict =
    t.exitCode === 0
      ? "pass"
      : t.exitCode === 1
        ? `VIOLATION ${t.violations.map((v) => `${v.hop} ${v.count} = ${v.value}`).join(", ")}`
        : `exit ${t.exitCode} (not judged${t.error ? `: ${t.error}` : ""})`;
  return `trial ${t.n} ${t.phase.padEnd(8)} ${describeCase(t.case)} → ${verdict} [${formatMs(t.durationMs)}]`;
}

function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export function conclusion(e: Exploration, written: Written): string {
  const searched = e.trials.filter((t) => t.phase === "search" || t.phase === "baseline").length;
  const infra = e.trials.filter((t) => t.exitCode === 3).length;
  const kinds = Object.entries(e.drawn)
    .map(([k, n]) => `${k} ×${n}`)
    .join(", ");
  const lines = [
    `explore: ${e.trials.length} trial(s) in ${formatMs(e.durationMs)} (seed ${e.seed}; ${searched} searched, ${infra} not judged (exit 3), ${e.refused} drawn case(s) the run would refuse)`,
    `faults drawn: ${kinds || "none"}`,
  ];
  const f = e.finding;
  if (!f) {
    lines.push(
      e.outcome === "none"
        ? `no violation of the claim found in ${searched} trial(s) of ${e.groups.join(", ")} faults`
        : e.outcome === "infrastructure"
          ? "the infrastructure failed more than half the trials: nothing can be concluded (exit 3)"
          : "interrupted before anything was found",
    );
  } else {
    lines.push(
      `VIOLATION ${f.signature.hop} ${f.signature.count}, found at trial ${f.trial}: ${describeCase(f.original)}`,
      f.flaky
        ? `flaky: it showed again in ${f.reproduced} of ${f.replays} replays with the same seed; not shrunk`
        : `reproduced ${f.reproduced} of ${f.replays} replays with the same seed`,
    );
    if (f.shrink) {
      const kept = f.shrink.steps.filter((s) => s.kept).length;
      lines.push(
        `shrunk: ${kept} of ${f.shrink.steps.length} step(s) kept (${f.shrink.stoppedBy === "budget" ? "stopped by the budget" : "a local minimum: no single further step keeps it failing"})`,
        ...f.shrink.steps.filter((s) => s.kept).map((s) => `  kept: ${s.step}`),
      );
    }
    if (f.shrink) {
      const last = f.shrink.chain.at(-1);
      lines.push(
        last === f.minimal
          ? `checked: the minimal case showed it again in ${f.validated} of ${f.replays} more replays`
          : `checked: the smallest case failed some of ${f.replays} more replays; stepped back to the last kept case that held ${f.validated} of ${f.replays}`,
      );
    }
    lines.push(`minimal: ${describeCase(f.minimal)}`);
    const others = e.flaky.filter((x) => x !== f);
    if (others.length > 0) {
      lines.push(
        `${others.length} other finding(s) did not reproduce ${f.replays} of ${f.replays} (flaky; listed in summary.json)`,
      );
    }
  }
  if (written.replay) lines.push(`replay: kafka-chaos run --profile ${written.replay}`);
  if (written.report) lines.push(`report: ${written.report}`);
  lines.push(`summary: ${written.summary}`);
  return lines.join("\n");
}
