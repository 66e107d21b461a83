/** When the processor has worked off the input, and the crash plans it carries out itself. */
import { setTimeout as sleep } from "node:timers/promises";
import { InfrastructureError } from "../errors.js";
import { kindOf } from "../faults/kinds.js";
import type { ScheduledFault } from "../faults/schedule.js";
import { type CrashPlan, ProcessorPool } from "../processor/pool.js";
import { highWatermarks, waitTransactionsClosed } from "../reader/offsets.js";
import { visibleEnds } from "../reader/visible-ends.js";
import type { RunInfo } from "./run-dir.js";
import type { PipelineContext } from "./pipeline.js";

/** How long the processor may take to work off the input once the producers are done. */
export const CATCH_UP_MS = 120_000;

/**
 * Faults a worker carries out itself (a crash at a deterministic point: it knows when it is
 * between commit and processing), as its kind plans them; everything else is the nemesis's.
 */
export function splitCrashes(
  schedule: ScheduledFault[],
  info: RunInfo,
): { plans: CrashPlan[]; nemesisFaults: ScheduledFault[] } {
  const plans: CrashPlan[] = [];
  const nemesisFaults: ScheduledFault[] = [];
  const run = { messages: info.profile.workload.messages, workers: info.profile.processor.workers };
  for (const f of schedule) {
    const plan =
      f.trigger === "worker" ? kindOf(f.fault.type).workerPlan?.(f.fault, f, run) : undefined;
    if (plan) plans.push(plan);
    else nemesisFaults.push(f);
  }
  return { plans, nemesisFaults };
}

export async function waitCaughtUp(
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
export async function caughtUpTargets(ctx: PipelineContext): Promise<Map<number, number>> {
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
