import { setTimeout as sleep } from "node:timers/promises";
import type kafkajs from "kafkajs";
import { InfrastructureError } from "../errors.js";
import { Nemesis, type Role } from "../faults/nemesis.js";
import type { ProxySet } from "../faults/proxies.js";
import type { ScheduledFault } from "../faults/schedule.js";
import { HistoryWriter } from "../history/writer.js";
import { kafkaClient } from "../workload/client.js";
import { connectionEnv } from "../workload/connection.js";
import { ProcessorPool, type CrashPlan } from "../workload/pool.js";
import { runProducer, type Progress } from "../workload/producer.js";
import { resolveInDoubt } from "../workload/resolve.js";
import { redacted, SINK_URL_ENV, type SinkConfig } from "../workload/sinks/index.js";
import type { Cluster } from "./cluster.js";
import { runFiles, type RunInfo } from "./run-dir.js";
import type { RunOptions } from "./run.js";

export interface PipelineContext {
  opts: RunOptions;
  dir: string;
  info: RunInfo;
  direct: kafkajs.Kafka;
  cluster: Cluster;
  proxies: Partial<Record<Role, ProxySet>>;
  schedule: ScheduledFault[];
  leaders: number[];
  coordinators: number[];
  /** the external sink, its location in full (info.sink has it redacted) */
  sink?: SinkConfig;
}

/** How long the processor may take to work off the input once the producers are done. */
const CATCH_UP_MS = 120_000;

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
  const fail = (err: unknown) => {
    failure ??= err;
    stop.abort();
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
  });
  await history.flush();
  const { plans, nemesisFaults } = splitCrashes(ctx.schedule, info);
  const pool = startPool(ctx, plans, history, t0, clock);
  const nemesis = new Nemesis({
    proxies: ctx.proxies,
    schedule: nemesisFaults,
    leaders: ctx.leaders,
    coordinators: ctx.coordinators,
    pool,
    history,
    clock,
    sent: () => progress.sent,
    onError: fail,
  });
  const ticker = opts.onProgress
    ? setInterval(() => opts.onProgress?.(progress, nemesis.active()), 200)
    : undefined;
  try {
    nemesis.start();
    await produce(ctx, history, clock, progress, stop.signal);
    if (pool && !stop.signal.aborted) await waitCaughtUp(ctx, pool, stop.signal);
  } catch (err) {
    failure ??= err;
  } finally {
    clearTimeout(limit);
    clearInterval(ticker);
    opts.signal?.removeEventListener("abort", onAbort);
    await nemesis.heal().catch((err: unknown) => (failure ??= err));
    await pool?.stop();
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
  if (!proxies) throw new Error("no producer proxies");
  const kafka = kafkaClient({
    clientId: `${info.prefix}-producer`,
    brokers: proxies.brokers.map((b) => `${b.host}:${b.port}`),
    route: proxies.route(),
    requestTimeoutMs: profile.producer.requestTimeoutMs,
    retries: profile.producer.retries,
    connection: ctx.opts.connection,
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
        messages: Math.max(0, Math.min(share, profile.workload.messages - share * producerId)),
        transactionalId: profile.producer.transactional
          ? `${info.prefix}-tx-${producerId}`
          : undefined,
        settings: profile.producer,
        workload: profile.workload,
        history,
        clock,
        progress,
        signal,
        resolveInDoubt: (doubt) => resolveInDoubt(direct, `${info.prefix}-resolve`, doubt),
      }),
    ),
  );
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
  if (!settings.enabled || !proxies || (!info.topics.output && !ctx.sink)) return undefined;
  const pool = new ProcessorPool({
    dir: ctx.dir,
    base: {
      runId: info.runId,
      brokers: proxies.brokers.map((b) => `${b.host}:${b.port}`),
      route: [...proxies.route()],
      inputTopic: info.topics.input,
      ...(info.topics.output ? { outputTopic: info.topics.output } : {}),
      ...(ctx.sink ? { sink: redacted(ctx.sink) } : {}),
      groupId: `${info.prefix}-processor`,
      transactionalId: `${info.prefix}-processor-tx`,
      settings,
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
    if (fault.type !== "crash-consumer" || fault.params.point === "random") {
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
  const end = await ctx.cluster.endOffsets(ctx.info.topics.input);
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
