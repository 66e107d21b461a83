import { processorChunk } from "../producer/batches.js";
import { TailReader } from "../reader/tail.js";
import { setTimeout as sleep } from "node:timers/promises";
import type kafkajs from "kafkajs";
import { InfrastructureError, RunBrokenError, type BrokenBy } from "../errors.js";
import { kindOf } from "../faults/kinds.js";
import { Nemesis } from "../faults/nemesis.js";
import type { BrokerControl, ClientRole, ProxyPort, TargetLookup } from "../faults/ports.js";
import { RunProxies, type ProxySet } from "../faults/proxies.js";
import type { ScheduledFault } from "../faults/schedule.js";
import { mulberry32 } from "../random.js";
import { HistoryWriter } from "../history/writer.js";
import { prepareApp, waitAppCaughtUp, type RunningApp } from "../app/start.js";
import { kafkaClient } from "../clients/kafkajs.js";
import { connectionEnv } from "../clients/connection.js";
import { ProcessorPool, type CrashPlan } from "../processor/pool.js";
import { runProducers, type Progress } from "../producer/producer.js";
import { runProducerThreads } from "../producer/producer-threads.js";
import { resolveInDoubt } from "../reader/fate.js";
import { highWatermarks, waitTransactionsClosed } from "../reader/offsets.js";
import { visibleEnds } from "../reader/visible-ends.js";
import { redacted, SINK_URL_ENV, type SinkConfig } from "../sinks/index.js";
import type { Cluster } from "./cluster.js";
import { runFiles, type RunInfo } from "./run-dir.js";
import type { RunOptions } from "./run.js";
import {
  listToxiproxy,
  ProcessedCounter,
  startWatchdog,
  tapHistory,
  Watchdog,
} from "./watchdog.js";

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

/** How long the processor may take to work off the input once the producers are done. */
const CATCH_UP_MS = 120_000;

/** Default of --stall-limit and workload.stallLimit. */
export const DEFAULT_STALL_LIMIT_MS = 60_000;

/**
 * Once the run's infrastructure is found broken, sends in flight get this long to come back;
 * then the run stops without them (their invokes are on disk: they count as unknown). Against
 * vanished proxies kafkajs retries one batch for ~15 s.
 */
const ABANDON_SENDS_MS = 1000;

/** How long the workers of a failed run get to stop cleanly. */
const WORKER_STOP_MS = 2000;

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
  });
  const watchdog = newWatchdog(ctx, clock, nemesis, admin, pool, app);
  tapHistory(history, (e) => watchdog.observe(e));
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
  return { interrupted, warnings: warningsOf(nemesis, plans, pool) };
}

/**
 * Stops the processor's workers. A failed run is not judged and its workers may hang leaving
 * their group through proxies that are gone: they get WORKER_STOP_MS, then SIGKILL (for the
 * history, a crash like any other).
 */
async function stopPool(pool: ProcessorPool, workers: number, failed: boolean): Promise<void> {
  const stopping = pool.stop();
  if (!failed) return stopping;
  const timer = setTimeout(() => {
    for (let slot = 0; slot < workers; slot += 1) pool.kill(slot, "stopped");
  }, WORKER_STOP_MS);
  try {
    await stopping;
  } finally {
    clearTimeout(timer);
  }
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

async function produce(
  ctx: PipelineContext,
  history: HistoryWriter,
  clock: () => number,
  progress: Progress,
  signal: AbortSignal,
): Promise<void> {
  const { info, direct } = ctx;
  const { profile } = info;
  const proxies = ctx.proxies.producer;
  const librdkafka = profile.client === "librdkafka";
  if (!proxies && !librdkafka) throw new Error("no producer proxies");
  // librdkafka goes where the brokers' producer listeners point (their proxies), or straight in.
  const rdBrokers = proxies
    ? [...proxies.route().values()].map((a) => `${a.host}:${a.port}`)
    : info.bootstrap.split(",").map((b) => b.trim());
  const client = {
    clientId: `${info.prefix}-producer`,
    brokers: proxies ? proxies.brokers.map((b) => `${b.host}:${b.port}`) : rdBrokers,
    ...(proxies ? { route: proxies.route() } : {}),
    requestTimeoutMs: profile.producer.requestTimeoutMs,
    retries: profile.producer.retries,
    connection: ctx.opts.connection,
  };
  const kafka = kafkaClient(client);
  const producers = profile.workload.producers;
  const share = Math.ceil(profile.workload.messages / producers);
  const run =
    profile.workload.producerThreads && !librdkafka
      ? (all: Parameters<typeof runProducers>[0]) => runProducerThreads(all, client)
      : runProducers;
  await run(
    Array.from({ length: producers }, (_, producerId) => ({
      client: profile.client,
      kafka,
      brokers: rdBrokers,
      ...(ctx.opts.connection ? { connection: ctx.opts.connection } : {}),
      runId: info.runId,
      topic: info.topics.input,
      producerId,
      messages: Math.max(0, Math.min(share, profile.workload.messages - share * producerId)),
      transactionalId: profile.producer.transactional
        ? `${info.prefix}-tx-${producerId}`
        : undefined,
      settings: profile.producer,
      workload: profile.workload,
      ...(profile.app ? { identity: profile.app.identity } : {}),
      history,
      clock,
      progress,
      signal,
      resolveInDoubt: (doubt) =>
        resolveInDoubt(
          {
            kafka: direct,
            bootstrap: info.bootstrap,
            ...(ctx.opts.connection ? { connection: ctx.opts.connection } : {}),
          },
          doubt,
        ),
    })),
  );
}

/**
 * The tail reader follows the input topic while the run goes, for evidence of acked records
 * that were visible and later vanished. Only where a log can be truncated under the run: its
 * topic is replicated, or a broker fault is scheduled.
 */
async function startTail(
  ctx: PipelineContext,
  clock: () => number,
): Promise<TailReader | undefined> {
  const { info } = ctx;
  const brokerFaults = ctx.schedule.some((f) => kindOf(f.fault.type).family === "broker");
  const replicated = info.profile.workload.replicationFactor > 1;
  if (info.profile.producer.acks === 0 || (!brokerFaults && !replicated)) return undefined;
  return TailReader.start({
    bootstrap: info.bootstrap,
    ...(ctx.opts.connection ? { connection: ctx.opts.connection } : {}),
    runId: info.runId,
    topic: info.topics.input,
    file: runFiles(ctx.dir).tail,
    clock,
  });
}

/** Starts the user's app, if the profile has one, and waits until every instance is ready. */
async function startApp(
  ctx: PipelineContext,
  history: HistoryWriter,
  admin: kafkajs.Admin,
  clock: () => number,
): Promise<RunningApp | undefined> {
  const { info } = ctx;
  const profile = info.profile;
  if (!profile.app) return undefined;
  const app = prepareApp({
    profile: { ...profile, app: profile.app },
    runId: info.runId,
    prefix: info.prefix,
    dir: ctx.dir,
    bootstrap: info.bootstrap,
    ...(ctx.proxies.app ? { proxies: ctx.proxies.app } : {}),
    topics: info.topics,
    ...(ctx.sink ? { sink: ctx.sink } : {}),
    ...(ctx.opts.connection ? { connection: ctx.opts.connection } : {}),
    admin,
    history,
    clock,
  });
  try {
    await app.instances.start();
  } catch (err) {
    await app.instances.stopAll();
    throw err;
  }
  app.progress.start();
  return app;
}

function startPool(
  ctx: PipelineContext,
  crashes: CrashPlan[],
  history: HistoryWriter,
  t0: number,
  clock: () => number,
): ProcessorPool | undefined {
  const { info } = ctx;
  const settings = info.profile.processor;
  const proxies = ctx.proxies.processor;
  const client = info.profile.client;
  // librdkafka without a network fault on it has no proxies: it connects to the cluster.
  if (!settings.enabled || (!proxies && client !== "librdkafka")) return undefined;
  if (!info.topics.output && !ctx.sink) return undefined;
  const pool = new ProcessorPool({
    dir: ctx.dir,
    base: {
      runId: info.runId,
      client,
      brokers: !proxies
        ? info.bootstrap.split(",").map((b) => b.trim())
        : client === "librdkafka"
          ? [...proxies.route().values()].map((a) => `${a.host}:${a.port}`)
          : proxies.brokers.map((b) => `${b.host}:${b.port}`),
      route: proxies ? [...proxies.route()] : [],
      inputTopic: info.topics.input,
      ...(info.topics.output ? { outputTopic: info.topics.output } : {}),
      ...(ctx.sink ? { sink: redacted(ctx.sink) } : {}),
      groupId: `${info.prefix}-processor`,
      transactionalId: `${info.prefix}-processor-tx`,
      settings: { ...settings, batchSize: processorChunk(info.profile) },
      requestTimeoutMs: info.profile.producer.requestTimeoutMs,
      runStartedAt: t0,
    },
    workers: settings.workers,
    restartDelayMs: settings.restartDelayMs,
    crashes,
    seed: info.seed,
    history,
    clock,
    env: {
      ...connectionEnv(ctx.opts.connection),
      ...(ctx.sink?.type === "postgres" ? { [SINK_URL_ENV]: ctx.sink.location } : {}),
    },
  });
  pool.start();
  return pool;
}

/**
 * Crashes at a deterministic point are carried out by the worker itself (it knows when it is
 * between commit and processing); everything else is the nemesis's to start and stop.
 */
function splitCrashes(
  schedule: ScheduledFault[],
  info: RunInfo,
): { plans: CrashPlan[]; nemesisFaults: ScheduledFault[] } {
  const plans: CrashPlan[] = [];
  const nemesisFaults: ScheduledFault[] = [];
  const workers = info.profile.processor.workers;
  for (const f of schedule) {
    const fault = f.fault;
    if (f.trigger !== "worker" || fault.type !== "crash-consumer") {
      nemesisFaults.push(f);
      continue;
    }
    const drawn = "messages" in f.start ? f.start.messages : info.profile.workload.messages / 2;
    plans.push({
      slot: fault.params.worker,
      incarnation: f.repetition,
      point: fault.params.point,
      after: fault.params.after ?? Math.max(1, Math.floor(drawn / workers)),
      restartDelayMs: fault.params.restart,
      label: f.label,
    });
  }
  return { plans, nemesisFaults };
}

async function waitCaughtUp(
  ctx: PipelineContext,
  pool: ProcessorPool,
  signal: AbortSignal,
): Promise<void> {
  const end = await caughtUpTargets(ctx);
  const deadline = Date.now() + CATCH_UP_MS;
  while (!pool.caughtUp(end)) {
    if (signal.aborted) return;
    if (Date.now() > deadline) {
      const why = pool.fatalErrors.at(-1);
      throw new InfrastructureError(
        ctx.info.bootstrap,
        `the processor did not work off the input within ${CATCH_UP_MS / 1000}s` +
          `${why ? ` (last worker error: ${why})` : ""}; worker logs are in ${ctx.dir}`,
      );
    }
    await sleep(200);
  }
}

/**
 * partition → one past the last input record the processor is handed: a partition may end in
 * transaction markers or aborted records, which librdkafka never hands out (kafkajs reports
 * the batches it filtered, and gets there too). Transactions still closing are waited for.
 */
async function caughtUpTargets(ctx: PipelineContext): Promise<Map<number, number>> {
  const { profile, topics } = ctx.info;
  const readCommitted = profile.processor.isolation === "read_committed";
  const high = await highWatermarks(ctx.direct, topics.input);
  if (readCommitted && profile.producer.transactional) {
    await waitTransactionsClosed(ctx.direct, topics.input, high, CATCH_UP_MS / 4);
  }
  return visibleEnds({
    bootstrap: ctx.info.bootstrap,
    ...(ctx.opts.connection ? { connection: ctx.opts.connection } : {}),
    topic: topics.input,
    ends: readCommitted ? await ctx.cluster.endOffsets(topics.input) : high,
    readCommitted,
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
