import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import { Nemesis } from "../faults/nemesis.js";
import { ProxySet } from "../faults/proxies.js";
import { planSchedule, type ScheduledFault } from "../faults/schedule.js";
import { HistoryWriter } from "../history/writer.js";
import type { Profile } from "../profiles/schema.js";
import type { Report } from "../report/report.js";
import { kafkaClient } from "../workload/client.js";
import { drainTopic } from "../workload/drain.js";
import { resolveInDoubt } from "../workload/resolve.js";
import type kafkajs from "kafkajs";
import { runProducer, type Progress } from "../workload/producer.js";
import { Cluster } from "./cluster.js";
import { judgeRunDir } from "./judge.js";
import { newRunId, readRunInfo, runFiles, writeRunInfo, type RunInfo } from "./run-dir.js";

export interface RunOptions {
  profile: Profile;
  bootstrap: string;
  toxiproxy: string;
  seed?: number;
  topicPrefix?: string;
  outDir?: string;
  keep?: boolean;
  /** Aborting it stops the run early (Ctrl-C); the run is then left for `reconcile`. */
  signal?: AbortSignal;
  onProgress?: (progress: Progress, activeFaults: string[]) => void;
  log?: (line: string) => void;
}

export type RunResult =
  { interrupted: false; report: Report; dir: string } | { interrupted: true; dir: string };

/**
 * One chaos run: set up topics and proxies, produce through the proxies while the nemesis
 * breaks them, heal, drain directly, reconcile and judge. Proxies are always removed.
 */
export async function runChaos(opts: RunOptions): Promise<RunResult> {
  const { profile } = opts;
  const runId = newRunId();
  const prefix = opts.topicPrefix ?? `kc-${runId}`;
  const dir = path.resolve(opts.outDir ?? path.join("kafka-chaos-runs", runId));
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const schedule = planSchedule(profile.faults, { seed, messages: profile.workload.messages });
  const brokers = opts.bootstrap.split(",").map((b) => b.trim());
  const direct = kafkaClient({
    clientId: `${prefix}-admin`,
    brokers,
    retries: 2,
    connectionTimeoutMs: 2000,
  });
  const cluster = await Cluster.connect(direct, opts.bootstrap);
  let proxies: ProxySet | undefined;
  try {
    checkTargets(schedule, cluster);
    await cluster.assertPrefixFree(prefix);
    const topic = `${prefix}-input`;
    proxies = await ProxySet.create({
      toxiproxyUrl: opts.toxiproxy,
      name: `${prefix}-producer`,
      brokers: cluster.brokers,
    });
    await cluster.createTopic(
      topic,
      profile.workload.partitions,
      profile.workload.replicationFactor,
    );
    fs.mkdirSync(dir, { recursive: true });
    const info: RunInfo = {
      runId,
      profile,
      seed,
      bootstrap: opts.bootstrap,
      toxiproxy: opts.toxiproxy,
      prefix,
      topics: { input: topic },
      groups: [`${prefix}-drain`, `${prefix}-resolve`],
      proxies: proxies.names(),
      startedAt: new Date().toISOString(),
    };
    writeRunInfo(dir, info);
    const leader = await cluster.leaderOf(topic, 0);
    const { interrupted, warnings } = await produceUnderFaults(
      opts,
      dir,
      info,
      proxies,
      schedule,
      leader,
      direct,
    );
    await proxies.remove();
    if (interrupted) return { interrupted: true, dir };

    await drainTopic({
      kafka: direct,
      bootstrap: opts.bootstrap,
      runId,
      topic,
      groupId: `${prefix}-drain`,
      file: runFiles(dir).drain,
      readCommitted: true,
    });
    const report = await judgeRunDir(dir, warnings);
    if (!opts.keep) await cluster.deleteOwn(prefix, [topic], info.groups);
    return { interrupted: false, report, dir };
  } finally {
    await proxies?.remove();
    await cluster.close();
  }
}

/** Runs the producers and the nemesis until done, interrupted, or failed. */
async function produceUnderFaults(
  opts: RunOptions,
  dir: string,
  info: RunInfo,
  proxies: ProxySet,
  schedule: ScheduledFault[],
  leader: number,
  direct: kafkajs.Kafka,
): Promise<{ interrupted: boolean; warnings: string[] }> {
  const { profile } = opts;
  const history = await HistoryWriter.open(runFiles(dir).history);
  const t0 = Date.now();
  const clock = () => Date.now() - t0;
  const progress: Progress = { sent: 0, acked: 0, failed: 0, unknown: 0 };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onAbort);
  const limit = profile.workload.duration
    ? setTimeout(() => stop.abort(), profile.workload.duration)
    : undefined;
  // A crash between here and the end still leaves a judgeable history on disk.
  const onExit = () => history.flushSync();
  process.on("exit", onExit);
  let failure: unknown;
  const nemesis = new Nemesis({
    proxies,
    schedule,
    leader,
    history,
    clock,
    sent: () => progress.sent,
    onError: (err) => {
      failure ??= err;
      stop.abort();
    },
  });
  const ticker = opts.onProgress
    ? setInterval(() => opts.onProgress?.(progress, nemesis.active()), 200)
    : undefined;
  history.append({
    type: "run",
    runId: info.runId,
    profile: profile.name,
    seed: info.seed,
    startedAt: info.startedAt,
    topics: info.topics,
    acks: profile.producer.acks,
  });
  await history.flush();
  try {
    nemesis.start();
    const kafka = kafkaClient({
      clientId: `${info.prefix}-producer`,
      brokers: proxies.brokers.map((b) => `${b.host}:${b.port}`),
      route: proxies.route(),
      requestTimeoutMs: profile.producer.requestTimeoutMs,
      retries: profile.producer.retries,
    });
    const producers = profile.workload.producers;
    const share = Math.ceil(profile.workload.messages / producers);
    await Promise.all(
      Array.from({ length: producers }, (_, producerId) =>
        runProducer({
          kafka,
          runId: info.runId,
          topic: info.topics.input,
          producerId,
          messages: Math.min(share, profile.workload.messages - share * producerId),
          transactionalId: profile.producer.transactional
            ? `${info.prefix}-tx-${producerId}`
            : undefined,
          settings: profile.producer,
          workload: profile.workload,
          history,
          clock,
          progress,
          signal: stop.signal,
          resolveInDoubt: (doubt) => resolveInDoubt(direct, `${info.prefix}-resolve`, doubt),
        }),
      ),
    );
  } catch (err) {
    failure ??= err;
  } finally {
    clearTimeout(limit);
    clearInterval(ticker);
    opts.signal?.removeEventListener("abort", onAbort);
    await nemesis.heal().catch((err: unknown) => (failure ??= err));
  }
  const interrupted = opts.signal?.aborted === true;
  const warnings = nemesis
    .neverStarted()
    .map((label) => `fault ${label} never started: the run ended before its start point`);
  history.append({
    type: "end",
    time: clock(),
    reason: failure ? "error" : interrupted ? "interrupted" : "completed",
    ...(failure ? { error: String(failure) } : {}),
  });
  await history.close();
  process.off("exit", onExit);
  if (failure) throw failure;
  return { interrupted, warnings };
}

function checkTargets(schedule: ScheduledFault[], cluster: Cluster): void {
  const ids = new Set(cluster.brokers.map((b) => b.nodeId));
  for (const f of schedule) {
    const t = f.fault.target;
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
export async function reconcileDir(dir: string): Promise<Report> {
  const files = runFiles(dir);
  if (fs.existsSync(files.drain)) return judgeRunDir(dir);
  const info = readRunInfo(dir);
  const brokers = info.bootstrap.split(",");
  const direct = kafkaClient({
    clientId: `${info.prefix}-admin`,
    brokers,
    retries: 2,
    connectionTimeoutMs: 2000,
  });
  const cluster = await Cluster.connect(direct, info.bootstrap);
  try {
    const group = `${info.prefix}-drain`;
    await drainTopic({
      kafka: direct,
      bootstrap: info.bootstrap,
      runId: info.runId,
      topic: info.topics.input,
      groupId: group,
      file: files.drain,
      readCommitted: true,
    });
    await cluster.deleteOwn(info.prefix, [], [group]);
  } finally {
    await cluster.close();
  }
  return judgeRunDir(dir);
}
