import fs from "node:fs";
import { hasOutputTopic, runTopicConfig } from "./topics.js";
import path from "node:path";
import { AppError, InfrastructureError, UsageError } from "../errors.js";
import { ProxySet } from "../faults/proxies.js";
import { RunTargets } from "./targets.js";
import { brokerAccess, takeBrokerLease } from "./brokers.js";
import { planSchedule, type ScheduledFault } from "../faults/schedule.js";
import type { Profile } from "../profiles/schema.js";
import type { Report } from "../report/report.js";
import { checkSizes } from "../producer/batches.js";
import { directClient, KAFKAJS } from "../clients/kafkajs.js";
import { LIBRDKAFKA } from "../clients/librdkafka.js";
import { topicIds } from "../reader/topic-ids.js";
import { releaseLease } from "../stack/leases.js";
import { readerProblem } from "../reader/offsets.js";
import { leasedListeners, listenerUpstreams, proxiedRoles, routedListeners } from "./listeners.js";
import { appGroup, appTransactionalId } from "../app/start.js";
import { describeConnection, type Connection } from "../clients/connection.js";
import type { Progress } from "../producer/producer.js";
import { drainSink } from "../sinks/drain.js";
import { redacted, sinkConfig, type Sink } from "../sinks/index.js";
import { Cluster } from "./cluster.js";
import { drainAll } from "./drain-all.js";
import { RunLease } from "../faults/run-lease.js";
import { judgeRunDir } from "./judge.js";
import { executePipeline, type PipelineContext } from "./pipeline.js";
import { drainRecordedSink, prepareSink } from "./sink.js";
import {
  newRunId,
  readRunInfo,
  runFiles,
  runNames,
  writeRunInfo,
  type RunInfo,
} from "./run-dir.js";

/** Longest wait for Toxiproxy to remove the run's proxies. */
const REMOVE_PROXIES_MS = 10_000;

export interface RunOptions {
  profile: Profile;
  bootstrap: string;
  toxiproxy: string;
  seed?: number;
  topicPrefix?: string;
  outDir?: string;
  keep?: boolean;
  /** Address Toxiproxy binds the run's proxies to (and clients connect to); default 127.0.0.1. */
  proxyHost?: string;
  /** First port tried for the run's proxies; default 21000. */
  proxyPortBase?: number;
  /** TLS / SASL for every client of the run (secrets stay in memory and worker environments) */
  connection?: Connection;
  /** Aborting it stops the run early (Ctrl-C); the run is then left for `reconcile`. */
  signal?: AbortSignal;
  /**
   * Longest pause of the producer or the processor that no fault explains; then the run stops
   * with exit 3. Default: the profile's workload.stallLimit, else 60 s.
   */
  stallLimitMs?: number;
  /** Called every 200 ms while the workload runs; `processed` is undefined without a processor. */
  onProgress?: (progress: Progress, activeFaults: string[], processed?: number) => void;
  log?: (line: string) => void;
}

export type RunResult =
  { interrupted: false; report: Report; dir: string } | { interrupted: true; dir: string };

/**
 * One chaos run: set up topics, proxies and the sink's tables, produce through the proxies
 * while the nemesis breaks them, heal, drain directly, reconcile and judge. Proxies are always
 * removed; a setup that fails before the run starts leaves nothing behind.
 */
export async function runChaos(opts: RunOptions): Promise<RunResult> {
  const { profile } = opts;
  const { runId, prefix, seed, schedule } = startPlan(opts);
  const dir = path.resolve(opts.outDir ?? path.join("kafka-chaos-runs", runId));
  const direct = directClient(prefix, opts.bootstrap, opts.connection);
  const newDir = refuseUsedDir(dir);
  let started = false;
  let sink: Sink | undefined;
  let leased: string | undefined;
  const leases: string[] = [];
  let lease: RunLease | undefined;
  const abandon = async () => {
    await sink?.drop().catch(() => {});
    if (newDir) fs.rmSync(dir, { recursive: true, force: true });
  };
  const cluster = await Cluster.connect(direct, opts.bootstrap).catch(async (err: unknown) => {
    await abandon();
    throw err;
  });
  const proxies: PipelineContext["proxies"] = {};
  // Bounded: a Toxiproxy that stopped answering must not hold the run's end forever.
  const removeProxies = () =>
    Promise.race([
      Promise.all(Object.values(proxies).map((p) => p?.remove())),
      new Promise((resolve) => setTimeout(resolve, REMOVE_PROXIES_MS).unref()),
    ]);
  try {
    checkTargets(schedule, cluster);
    // The reader of record judges the run: one that cannot connect fails it now, not afterwards.
    const unread = await readerProblem(opts.bootstrap, opts.connection);
    if (unread !== undefined) {
      throw new InfrastructureError(
        opts.bootstrap,
        `the reader of record (${LIBRDKAFKA}) cannot reach the cluster: ${unread}`,
      );
    }
    const access = brokerAccess(profile, schedule, cluster.brokers);
    if (access.lease) leased = takeBrokerLease(access.lease, runId);
    const routing = routedListeners(
      profile,
      schedule,
      cluster.brokers,
      leasedListeners(runId, leases),
    );
    await cluster.assertPrefixFree(prefix);
    // Refused before anything is created: a batch the cluster cannot take in one request.
    const sizes = checkSizes(profile, await cluster.requestLimit(), hasOutputTopic(profile));
    const sinkAt = sinkConfig(profile.sink, prefix, dir);
    if (sinkAt) sink = await prepareSink(sinkAt, profile.app);
    const names = runNames(
      prefix,
      profile.processor.enabled,
      sinkAt !== undefined,
      profile.app !== undefined,
      proxiedRoles(profile, routing),
    );
    const { topics, groups } = names;
    // What the run made on the cluster and in the sink's server, for a run not to be judged.
    const dropOwn = async () => {
      await cluster.deleteOwn(prefix, Object.values(topics), groups);
      await sink?.drop().catch(() => {});
    };
    lease = await RunLease.take(opts.toxiproxy, prefix).catch((err: Error) => {
      throw new InfrastructureError(
        opts.toxiproxy,
        `Toxiproxy is not reachable or refused the run's lease (${err.message})`,
      );
    });
    for (const role of names.roles) {
      const listeners = routing.get(role);
      proxies[role] = await ProxySet.create({
        toxiproxyUrl: opts.toxiproxy,
        name: names.proxy(role),
        brokers: listeners ? listenerUpstreams(listeners) : cluster.brokers,
        listenHost: opts.proxyHost,
        portBase: opts.proxyPortBase,
        ...(listeners ? { listenAt: new Map(listeners.map((l) => [l.broker, l.proxy])) } : {}),
      });
    }
    for (const [role, topic] of Object.entries(topics)) {
      await cluster.createTopic(
        topic,
        profile.workload.partitions,
        profile.workload.replicationFactor,
        runTopicConfig(profile, role, sizes),
      );
    }
    const ids = await topicIds(opts.bootstrap, opts.connection, Object.values(topics));
    const info: RunInfo = {
      runId,
      profile,
      seed,
      bootstrap: opts.bootstrap,
      toxiproxy: opts.toxiproxy,
      prefix,
      topics,
      topicIds: ids,
      ...(sinkAt ? { sink: redacted(sinkAt) } : {}),
      connection: describeConnection(opts.connection ?? {}),
      clients: {
        producer: profile.client === "librdkafka" ? LIBRDKAFKA : KAFKAJS,
        ...(profile.processor.enabled && !profile.app
          ? { processor: profile.client === "librdkafka" ? LIBRDKAFKA : KAFKAJS }
          : {}),
        reader: LIBRDKAFKA,
      },
      groups,
      proxies: Object.values(proxies).flatMap((p) => p?.names() ?? []),
      startedAt: new Date().toISOString(),
    };
    writeRunInfo(dir, info);
    started = true;
    const pipelineRun = executePipeline({
      opts,
      dir,
      info,
      direct,
      cluster,
      proxies,
      schedule,
      targets: new RunTargets(
        cluster,
        topics.input,
        profile.app
          ? { group: appGroup(prefix), transactionalId: `${appTransactionalId(prefix)}-0` }
          : profile.processor.enabled
            ? { group: `${prefix}-processor`, transactionalId: `${prefix}-processor-tx-0` }
            : undefined,
        access.control,
      ),
      ...(access.control ? { brokers: access.control } : {}),
      ...(access.replication ? { replication: access.replication } : {}),
      ...(sinkAt ? { sink: sinkAt } : {}),
    });
    const { interrupted, warnings } = await pipelineRun.catch(async (err: unknown) => {
      // The app never ran, or never finished: nothing to judge, nothing to keep on the cluster
      // (its logs stay in the run directory).
      if (err instanceof AppError || err instanceof UsageError) await dropOwn();
      throw err;
    });
    await removeProxies();
    if (interrupted) return { interrupted: true, dir };
    const drained = await drainAll(direct, info, dir, opts.connection);
    const rows = sink ? await drainSink(sink, runFiles(dir).drainSink) : undefined;
    let unidentified: string[];
    try {
      unidentified = identityCheck(info, drained ?? rows);
    } catch (err) {
      if (!opts.keep) await dropOwn();
      throw err;
    }
    const report = await judgeRunDir(dir, [...warnings, ...unidentified]);
    if (!opts.keep) {
      await cluster.deleteOwn(prefix, Object.values(topics), groups);
      // The SQLite file stays in the run directory as evidence; a server's tables go.
      if (sinkAt?.type === "postgres") await sink?.drop();
    }
    return { interrupted: false, report, dir };
  } finally {
    if (leased) releaseLease(leased);
    await removeProxies();
    // Only once its proxies are gone: the next holder's proxies listen where they did.
    for (const slot of leases) releaseLease(slot);
    await lease?.release();
    await cluster.close();
    if (!started) await abandon();
    await sink?.close();
  }
}

const IDENTITY_HINT =
  "copy the headers kc-run, kc-producer and kc-seq from each input record to its output (Kafka Streams and most frameworks forward headers), or set app.identity to key or { value: <JSON field> }";

/**
 * The app's output must carry the run's identity. None at all: a UsageError (exit 2), the
 * verdict would only say "everything lost". Some without: a warning with the hint.
 */
function identityCheck(
  info: RunInfo,
  read: { records?: number; rows?: number; unidentified: number } | undefined,
): string[] {
  if (!info.profile.app || !read) return [];
  const where = info.topics.output
    ? `the output topic ${info.topics.output}`
    : `the rows app.sink.query lists`;
  const total = read.records ?? read.rows ?? 0;
  const missing = read.unidentified;
  if (total > 0 && missing === total) {
    throw new UsageError(
      `app: none of the ${total} records in ${where} carries an identity; ${IDENTITY_HINT}`,
    );
  }
  if (missing === 0) return [];
  return [
    `${missing} of ${total} records in ${where} carry no identity (reported as unexpected); ${IDENTITY_HINT}`,
  ];
}

/** Run id, prefix, seed and the concrete fault schedule of a new run. */
export function startPlan(opts: Pick<RunOptions, "profile" | "seed" | "topicPrefix">) {
  const runId = newRunId();
  const seed = opts.seed ?? opts.profile.seed ?? Math.floor(Math.random() * 2 ** 31);
  const { faults, workload } = opts.profile;
  return {
    runId,
    prefix: opts.topicPrefix ?? `kc-${runId}`,
    seed,
    schedule: planSchedule(faults, { seed, messages: workload.messages }),
  };
}

/**
 * A run directory holds one run: appending a second history would mix two runs.
 * Returns whether the directory is new (then a failed setup removes it again).
 */
function refuseUsedDir(dir: string): boolean {
  if (fs.existsSync(runFiles(dir).history) || fs.existsSync(runFiles(dir).info)) {
    throw new UsageError(`--out ${dir}: already holds a run; give each run its own directory`);
  }
  const exists = fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  return !exists;
}

export function checkTargets(schedule: ScheduledFault[], cluster: Cluster): void {
  const ids = new Set(cluster.brokers.map((b) => b.nodeId));
  for (const f of schedule) {
    if (!("target" in f.fault)) continue;
    const t: string = f.fault.target;
    if (t.startsWith("broker-") && !ids.has(Number(t.slice(7)))) {
      throw new UsageError(
        `--fault ${f.label}: target ${t} is not a broker of this cluster (${[...ids].map((i) => `broker-${i}`).join(", ")})`,
      );
    }
  }
}

/**
 * `kafka-chaos reconcile DIR`: judges a finished run from its files; for an interrupted run
 * (no complete drain yet) it first drains the run's topic, which an interrupted run keeps.
 */
export async function reconcileDir(dir: string, connection?: Connection): Promise<Report> {
  const files = runFiles(dir);
  const info = readRunInfo(dir);
  if (info.sink && !fs.existsSync(files.drainSink)) await drainRecordedSink(info, dir);
  const drained =
    fs.existsSync(files.drain) && (!info.topics.output || fs.existsSync(files.drainOutput));
  if (drained) return judgeRunDir(dir);
  const direct = directClient(info.prefix, info.bootstrap, connection);
  const cluster = await Cluster.connect(direct, info.bootstrap);
  try {
    await drainAll(direct, info, dir, connection);
    await cluster.deleteOwn(info.prefix, [], info.groups);
  } finally {
    await cluster.close();
  }
  return judgeRunDir(dir);
}
