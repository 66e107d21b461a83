import { formatFault } from "../faults/spec.js";
import { claimWarnings } from "../profiles/claim-warnings.js";
import type { ScheduleTime } from "../faults/schedule.js";
import { Cluster } from "./cluster.js";
import { runNames } from "./run-dir.js";
import { checkSizes, type RunSizes } from "../producer/batches.js";
import { brokerAccess, type BrokerAccess } from "./brokers.js";
import { proxiedRoles, routedListeners, type Routing } from "./listeners.js";
import { checkTargets, startPlan, type RunOptions } from "./run.js";
import { directClient } from "../clients/kafkajs.js";
import { hasOutputTopic, runTopicConfig } from "./topics.js";

/**
 * `run --dry-run`: what a run would create and break, without creating or breaking anything.
 * The cluster is only asked for its brokers (read-only), to name the proxies.
 */
export async function planRun(
  opts: Pick<
    RunOptions,
    | "profile"
    | "seed"
    | "topicPrefix"
    | "bootstrap"
    | "toxiproxy"
    | "connection"
    | "proxyHost"
    | "proxyPortBase"
  >,
): Promise<string> {
  const { profile } = opts;
  const { runId, prefix, seed, schedule } = startPlan(opts);
  const toSink = profile.sink.type !== "none";
  const direct = directClient(prefix, opts.bootstrap, opts.connection);
  const cluster = await Cluster.connect(direct, opts.bootstrap);
  const brokers = cluster.brokers;
  let sizes: RunSizes;
  let access: BrokerAccess;
  let routing: Routing;
  try {
    // The same refusals as a real run, so a plan that prints is a run that can start.
    checkTargets(schedule, cluster);
    access = brokerAccess(profile, schedule, brokers);
    routing = routedListeners(profile, schedule, brokers);
    await cluster.assertPrefixFree(prefix);
    sizes = checkSizes(profile, await cluster.requestLimit(), hasOutputTopic(profile));
  } finally {
    await cluster.close();
  }
  const names = runNames(
    prefix,
    profile.processor.enabled,
    toSink,
    profile.app !== undefined,
    proxiedRoles(profile, routing),
  );
  const w = profile.workload;
  const lines = [
    `plan for profile ${profile.name} (claims ${profile.claims}), run id ${runId}, seed ${seed}`,
    `workload: ${w.messages} messages of ${w.messageSize} bytes, ${w.rate || "unlimited"} msg/s, ${w.producers} producer(s)`,
    profile.app
      ? `processor: the app ${JSON.stringify(profile.app.command)} in ${profile.app.cwd ?? "."}, ${profile.app.instances} instance(s), identity ${JSON.stringify(profile.app.identity)}`
      : `processor: ${profile.processor.enabled ? `commit ${profile.processor.commit}, ${profile.processor.workers} worker(s)` : "none"}`,
    `sink: ${toSink ? `${profile.sink.type}, mode ${profile.sink.mode}` : "none"}`,
    "topics to create (deleted after the run unless --keep):",
    ...Object.entries(names.topics).map(
      ([role, t]) =>
        `  ${t}  partitions ${w.partitions}, replication factor ${w.replicationFactor}, ${Object.entries(
          runTopicConfig(profile, role, sizes),
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
    ),
    `consumer groups: ${names.groups.join(", ")}`,
    ...loadLines(profile),
    `Toxiproxy proxies at ${opts.toxiproxy}, listening on ${opts.proxyHost ?? "127.0.0.1"} from port ${opts.proxyPortBase ?? 21000} (removed after the run):`,
    ...names.roles.flatMap((role) =>
      routing.get(role)
        ? routing
            .get(role)!
            .map(
              (l) =>
                `  ${names.proxy(role)}-b${l.broker} at ${l.proxy} → ${l.upstream} (${role} listener)`,
            )
        : brokers.map((b) => `  ${names.proxy(role)}-b${b.nodeId} → ${b.host}:${b.port}`),
    ),
    "fault schedule:",
    ...(schedule.length === 0
      ? ["  none"]
      : schedule.map(
          (f) => `  ${f.label}  ${formatFault(f.fault)}  from ${when(f.start)} to ${when(f.stop)}`,
        )),
    ...access.plan,
    ...claimLines(profile),
    "",
  ];
  return lines.join("\n");
}

function when(t: ScheduleTime): string {
  if ("ms" in t) return `${(t.ms / 1000).toFixed(1)}s`;
  return t.plusMs > 0
    ? `message ${t.messages} + ${(t.plusMs / 1000).toFixed(1)}s`
    : `message ${t.messages}`;
}

/** What the claim implies, and where the settings cannot keep it. */
function claimLines(profile: RunOptions["profile"]): string[] {
  const warnings = claimWarnings(profile).map((w) => `  warning: ${w}`);
  const relaxed = profile.relax.map((r) => `  relaxed: ${r.count} at ${r.hop} (${r.reason})`);
  return [
    `claim ${profile.claims}:`,
    ...(warnings.length + relaxed.length
      ? [...warnings, ...relaxed]
      : ["  the settings can keep it"]),
  ];
}

/** How the workload sends and how long its transactions last, where that is not the default. */
function loadLines(profile: {
  workload: { producerThreads: boolean };
  producer: { transactional: boolean; transactionMs: number };
  processor: { enabled: boolean; commit: string; commitIntervalMs: number };
}): string[] {
  const lines: string[] = [];
  if (profile.workload.producerThreads) lines.push("producers: each in its own worker thread");
  if (profile.producer.transactional) {
    lines.push(`producer transactions: ${profile.producer.transactionMs} ms of batches each`);
  }
  if (profile.processor.enabled && profile.processor.commit === "transaction") {
    lines.push(`processor transactions: ${profile.processor.commitIntervalMs} ms of chunks each`);
  }
  return lines;
}
