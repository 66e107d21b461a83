/** Starting and stopping the stages of a run: producers, tail, processor pool, the user's app. */
import { processorChunk } from "../producer/batches.js";
import { TailReader } from "../reader/tail.js";
import type kafkajs from "kafkajs";
import { kindOf } from "../faults/kinds.js";
import { HistoryWriter } from "../history/writer.js";
import { prepareApp, type RunningApp } from "../app/start.js";
import { kafkaClient } from "../clients/kafkajs.js";
import { type CrashPlan, ProcessorPool } from "../processor/pool.js";
import { type Progress, runProducers } from "../producer/producer.js";
import { runProducerThreads } from "../producer/producer-threads.js";
import { resolveInDoubt } from "../reader/fate.js";
import { redacted, SINK_URL_ENV } from "../sinks/index.js";
import { runFiles } from "./run-dir.js";
import { connectionEnv } from "../clients/connection.js";
import type { PipelineContext } from "./pipeline.js";

/** How long the workers of a failed run get to stop cleanly. */
export const WORKER_STOP_MS = 2000;

export async function produce(
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
  const run = profile.workload.producerThreads
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
export async function startTail(
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
export async function startApp(
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

export function startPool(
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
 * Stops the processor's workers. A failed run is not judged and its workers may hang leaving
 * their group through proxies that are gone: they get WORKER_STOP_MS, then SIGKILL (for the
 * history, a crash like any other).
 */
export async function stopPool(
  pool: ProcessorPool,
  workers: number,
  failed: boolean,
): Promise<void> {
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
