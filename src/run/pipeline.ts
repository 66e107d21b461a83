import type kafkajs from "kafkajs";
import { InfrastructureError, RunBrokenError, type BrokenBy } from "../errors.js";
import { kindOf } from "../faults/kinds.js";
import { Nemesis } from "../faults/nemesis.js";
import type { BrokerControl, ClientRole, ProxyPort, TargetLookup } from "../faults/ports.js";
import { RunProxies, type ProxySet } from "../faults/proxies.js";
import type { ScheduledFault } from "../faults/schedule.js";
import { mulberry32 } from "../random.js";
import { HistoryWriter } from "../history/writer.js";
import { waitAppCaughtUp, type RunningApp } from "../app/start.js";
import { ProcessorPool, type CrashPlan } from "../processor/pool.js";
import { type Progress } from "../producer/producer.js";
import { type SinkConfig } from "../sinks/index.js";
import type { Cluster } from "./cluster.js";
import { runFiles, type RunInfo } from "./run-dir.js";
import type { RunOptions } from "./run.js";
import { startWatchdog, Watchdog } from "./watchdog.js";
import { listToxiproxy, ProcessedCounter, tapHistory } from "./watch-sources.js";

import { produce, startApp, startPool, startTail, stopPool } from "./stages.js";
import { splitCrashes, waitCaughtUp } from "./catch-up.js";
import { ackedEnds, settleAcked } from "./settle.js";

export interface PipelineContext {
  opts: RunOptions;
  dir: string;
  info: RunInfo;
  direct: kafkajs.Kafka;
  cluster: Cluster;
  proxies: Partial<Record<ClientRole, ProxySet>>;
  schedule: ScheduledFault[];
  /** who leads, coordinates and controls now, for the faults' targets */
  targets: TargetLookup;
  /** the brokers' processes, for broker faults */
  brokers?: BrokerControl;
  /** node id → the proxy its followers fetch through, when replication goes through Toxiproxy */
  replication?: Map<number, ProxyPort>;
  /** the external sink, its location in full (info.sink has it redacted) */
  sink?: SinkConfig;
}

/** Default of --stall-limit and workload.stallLimit. */
export const DEFAULT_STALL_LIMIT_MS = 60_000;

/**
 * Once the run's infrastructure is found broken, sends in flight get this long to come back;
 * then the run stops without them (their invokes are on disk: they count as unknown). Against
 * vanished proxies kafkajs retries one batch for ~15 s.
 */
const ABANDON_SENDS_MS = 1000;

/** Longest wait for healing the faults at the end, whatever Toxiproxy does. */
const HEAL_TIMEOUT_MS = 10_000;
/** … and when a broker may have to be started again and rejoin the cluster. */
const HEAL_BROKERS_TIMEOUT_MS = 120_000;

/**
 * Runs producers, processor workers and the nemesis until the input is produced and fully
 * processed, the run is interrupted, or something fails. Every fault is healed before return.
 */
export async function executePipeline(
  ctx: PipelineContext,
): Promise<{ interrupted: boolean; warnings: string[] }> {
  const { opts, info } = ctx;
  const history = await HistoryWriter.open(runFiles(ctx.dir).history);
  const t0 = Date.now();
  const clock = () => Date.now() - t0;
  const progress: Progress = { sent: 0, acked: 0, failed: 0, unknown: 0 };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onAbort);
  const duration = info.profile.workload.duration;
  const limit = duration ? setTimeout(() => stop.abort(), duration) : undefined;
  // A crash of the tool from here on still leaves a judgeable history on disk.
  const onExit = () => history.flushSync();
  process.on("exit", onExit);
  let failure: unknown;
  let settled: string[] = [];
  // A failed run is not judged: sends still in flight are not waited for (see abandonable).
  const broken = new AbortController();
  const fail = (err: unknown) => {
    failure ??= err;
    stop.abort();
    broken.abort();
  };
  history.append({
    type: "run",
    runId: info.runId,
    profile: info.profile.name,
    seed: info.seed,
    startedAt: info.startedAt,
    topics: info.topics,
    acks: info.profile.producer.acks,
    ...(info.sink
      ? { sink: { type: info.sink.type, mode: info.sink.mode, table: info.sink.table } }
      : {}),
    ...(info.profile.app ? { app: { command: info.profile.app.command.join(" ") } } : {}),
  });
  await history.flush();
  const admin = ctx.direct.admin();
  const app = await startApp(ctx, history, admin, clock).catch(async (err: unknown) => {
    history.append({ type: "end", time: clock(), reason: "error", error: String(err) });
    await history.close();
    process.off("exit", onExit);
    await admin.disconnect().catch(() => {});
    throw err;
  });
  const { plans, nemesisFaults } = splitCrashes(ctx.schedule, info);
  const pool = startPool(ctx, plans, history, t0, clock);
  const nemesis = new Nemesis({
    ports: {
      proxies: new RunProxies(ctx.proxies, ctx.replication),
      ...(pool ? { workers: pool } : {}),
      ...(app ? { apps: app.instances } : {}),
      ...(ctx.brokers ? { brokers: ctx.brokers } : {}),
      targets: ctx.targets,
      random: mulberry32(info.seed ^ 0x5eed),
    },
    schedule: nemesisFaults,
    history,
    clock,
    sent: () => progress.sent,
    onError: fail,
    toxicPrefix: `kc-${info.runId}`,
  });
  const watchdog = newWatchdog(ctx, clock, nemesis, admin, pool, app);
  tapHistory(history, (e) => watchdog.observe(e));
  const acked = ackedEnds(history);
  const guard = startWatchdog(watchdog, fail);
  const ticker = opts.onProgress
    ? setInterval(
        () =>
          opts.onProgress?.(
            progress,
            nemesis.active(),
            pool || app ? watchdog.processedCount() : undefined,
          ),
        200,
      )
    : undefined;
  const tail = await startTail(ctx, clock);
  try {
    nemesis.start();
    const producing = produce(ctx, history, clock, progress, stop.signal);
    producing.catch(() => {}); // if abandoned below, it still settles, into nothing
    await abandonable(producing, broken.signal, ABANDON_SENDS_MS);
    if (pool && !stop.signal.aborted) await waitCaughtUp(ctx, pool, stop.signal);
    if (app && !stop.signal.aborted) {
      const end = await ctx.cluster.endOffsets(info.topics.input);
      await waitAppCaughtUp(app, end, info.profile.app!.catchUpTimeout, stop.signal);
    }
  } catch (err) {
    failure ??= err;
  } finally {
    const checked = guard.stop();
    clearTimeout(limit);
    clearInterval(ticker);
    opts.signal?.removeEventListener("abort", onAbort);
    const healError = await healAll(nemesis, ctx.schedule, opts.toxiproxy);
    failure ??= healError;
    // Something failed on the way (a fault Toxiproxy refused, an admin call): if the run's
    // proxies or topics are gone, that is the cause to report.
    if (failure !== undefined && !(failure instanceof RunBrokenError)) {
      failure = (await watchdog.diagnose().catch(() => undefined)) ?? failure;
    }
    await checked;
    if (failure === undefined && !opts.signal?.aborted) {
      settled = await settleAcked(
        ctx.direct,
        info.topics.input,
        acked,
        await ctx.cluster.replicaLagMaxMs(),
      ).catch((err: unknown) => {
        failure = err;
        return [];
      });
    }
    if (pool) await stopPool(pool, info.profile.processor.workers, broken.signal.aborted);
    if (app) {
      await app.instances.stopAll();
      await app.progress.stop();
    }
    await tail?.stop();
    await admin.disconnect().catch(() => {});
  }
  const interrupted = opts.signal?.aborted === true;
  history.append({
    type: "end",
    time: clock(),
    reason: failure ? "error" : interrupted ? "interrupted" : "completed",
    ...(failure ? { error: String(failure) } : {}),
  });
  await history.close();
  process.off("exit", onExit);
  if (failure) throw failure;
  return { interrupted, warnings: [...warningsOf(nemesis, plans, pool), ...settled] };
}

/** Waits for `work`, or, once `broken` fires, at most `graceMs` longer. */
async function abandonable(
  work: Promise<void>,
  broken: AbortSignal,
  graceMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<void>((resolve) => {
    const later = () => (timer = setTimeout(resolve, graceMs));
    if (broken.aborted) later();
    else broken.addEventListener("abort", later, { once: true });
  });
  try {
    await Promise.race([work, giveUp]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Heals every active fault that can still be healed, within HEAL_TIMEOUT_MS: a fault whose proxy
 * Toxiproxy lost cannot be, and must not keep the others active. Returns the first error.
 */
async function healAll(
  nemesis: Nemesis,
  schedule: ScheduledFault[],
  toxiproxy: string,
): Promise<unknown> {
  const faults = schedule.length;
  const brokers = schedule.some((f) => kindOf(f.fault.type).family === "broker");
  const limit = brokers ? HEAL_BROKERS_TIMEOUT_MS : HEAL_TIMEOUT_MS;
  const deadline = Date.now() + limit;
  let first: unknown;
  // Each failed heal leaves that fault done: the next call goes on with the rest.
  for (let attempt = 0; attempt <= faults; attempt += 1) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
    });
    try {
      const result = await Promise.race([nemesis.heal().then(() => "healed" as const), timeout]);
      if (result === "timeout") {
        first ??= new InfrastructureError(
          toxiproxy,
          `healing the faults took longer than ${limit / 1000}s`,
        );
      }
      return first;
    } catch (err) {
      first ??= err;
    } finally {
      clearTimeout(timer);
    }
  }
  return first;
}

/**
 * The run's watchdog: its proxies and topics must stay, the producer and processor must move
 * unless a fault explains the pause. Reads Toxiproxy and the cluster directly, never through
 * the run's proxies.
 */
function newWatchdog(
  ctx: PipelineContext,
  clock: () => number,
  nemesis: Nemesis,
  admin: kafkajs.Admin,
  pool: ProcessorPool | undefined,
  app: RunningApp | undefined,
): Watchdog {
  const { opts, info, dir } = ctx;
  const { workload, processor } = info.profile;
  let connected: Promise<void> | undefined;
  const counter = new ProcessedCounter(dir);
  const input = info.topics.input;
  const topics = Object.values(info.topics).filter((t): t is string => t !== undefined);
  const hints: Record<BrokenBy, string> = {
    toxiproxy: `the run was stopped and not judged; judge what it did with: kafka-chaos reconcile ${dir}`,
    proxies: `the run was stopped and not judged; judge what it did with: kafka-chaos reconcile ${dir}`,
    "proxy-config": `the run was stopped and not judged; its history is kept in ${dir}`,
    topic: `the run was stopped and not judged; its history is kept in ${dir}`,
    stall: `the run was stopped and not judged; its history and worker logs are in ${dir}`,
  };
  return new Watchdog({
    ports: {
      listProxies: () => listToxiproxy(opts.toxiproxy),
      listTopics: async () => {
        connected ??= admin.connect();
        await connected;
        // One small metadata request per run topic (never a listing of a large cluster's topics).
        const found = new Map<string, number>();
        for (const topic of topics) {
          try {
            const meta = await admin.fetchTopicMetadata({ topics: [topic] });
            found.set(topic, meta.topics[0]?.partitions.length ?? 0);
          } catch (err) {
            if ((err as { type?: string }).type !== "UNKNOWN_TOPIC_OR_PARTITION") throw err;
          }
        }
        return found;
      },
      activeFaults: () => nemesis.activeOnProxies(),
      ...(app
        ? {
            processor: {
              processed: () => app.progress.total(),
              pending: async () => !app.progress.caughtUpTo(await ctx.cluster.endOffsets(input)),
              lastError: () => app.instances.lastExit,
            },
          }
        : {}),
      ...(pool
        ? {
            processor: {
              processed: () => counter.count(),
              pending: async () => !pool.caughtUp(await ctx.cluster.endOffsets(input)),
              lastError: () => pool.fatalErrors.at(-1),
            },
          }
        : {}),
      now: clock,
    },
    proxies: Object.values(ctx.proxies).flatMap((p) => p?.names() ?? []),
    topics,
    toxiproxyUrl: opts.toxiproxy,
    bootstrap: info.bootstrap,
    stallLimitMs: opts.stallLimitMs ?? workload.stallLimit ?? DEFAULT_STALL_LIMIT_MS,
    // Reconnects after a fault, and a rebalance after a crash (the old member's session ends).
    graceMs: info.profile.app
      ? 30_000 + info.profile.app.restartDelay + info.profile.app.readyTimeout
      : 10_000 + 2 * processor.sessionTimeoutMs + processor.restartDelayMs,
    hint: (by) => hints[by],
  });
}

function warningsOf(nemesis: Nemesis, plans: CrashPlan[], pool?: ProcessorPool): string[] {
  const warnings = nemesis
    .neverStarted()
    .map((label) => `fault ${label} never started: the run ended before its start point`);
  for (const p of plans) {
    if (!pool?.crashed(p.slot, p.incarnation)) {
      warnings.push(
        `crash-consumer of worker ${p.slot}.${p.incarnation} at ${p.point} never happened ` +
          `(it did not process ${p.after} messages)`,
      );
    }
  }
  return warnings;
}
