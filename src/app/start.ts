import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type kafkajs from "kafkajs";
import { AppError } from "../errors.js";
import type { HistoryWriter } from "../history/writer.js";
import type { AppSettings, Profile } from "../profiles/schema.js";
import type { ProxySet } from "../faults/proxies.js";
import type { Connection } from "../clients/connection.js";
import { appEnvironment } from "./env.js";
import { AppInstances } from "./instances.js";
import { describeLag, GroupProgress } from "./progress.js";

/** The user's app in a run: its instances and how far its group has committed. */
export interface RunningApp {
  instances: AppInstances;
  progress: GroupProgress;
  groupId: string;
}

/** The app's consumer group and the base of its transactional ids, under the run's prefix. */
export const appGroup = (prefix: string) => `${prefix}-app`;
export const appTransactionalId = (prefix: string) => `${prefix}-app-tx`;

export function prepareApp(opts: {
  profile: Profile & { app: AppSettings };
  runId: string;
  prefix: string;
  dir: string;
  /** the run's direct bootstrap, used when the app has no proxies */
  bootstrap: string;
  proxies?: ProxySet;
  topics: { input: string; output?: string };
  sink?: { location: string; table: string };
  connection?: Connection;
  admin: kafkajs.Admin;
  history: HistoryWriter;
  clock: () => number;
}): RunningApp {
  const settings = opts.profile.app;
  const groupId = appGroup(opts.prefix);
  const bootstrap = opts.proxies
    ? [...opts.proxies.route().values()].map((a) => `${a.host}:${a.port}`).join(",")
    : opts.bootstrap;
  const env = appEnvironment(
    {
      runId: opts.runId,
      bootstrap,
      inputTopic: opts.topics.input,
      ...(opts.topics.output ? { outputTopic: opts.topics.output } : {}),
      groupId,
      transactionalId: appTransactionalId(opts.prefix),
      ...(opts.sink ? { sink: { url: opts.sink.location, table: opts.sink.table } } : {}),
      ...(opts.connection ? { connection: opts.connection } : {}),
      identity: typeof settings.identity === "string" ? settings.identity : "value",
    },
    settings.env,
    opts.dir,
  );
  const instances = new AppInstances({
    settings,
    cwd: path.resolve(settings.cwd ?? "."),
    env,
    dir: opts.dir,
    history: opts.history,
    clock: opts.clock,
  });
  return {
    instances,
    progress: new GroupProgress(
      opts.admin,
      groupId,
      opts.topics.input,
      opts.profile.producer.transactional,
    ),
    groupId,
  };
}

/**
 * Once the input is produced: waits until the app's group has committed every input offset
 * (see caughtUp) and every instance is up, or throws an AppError naming what the app last wrote.
 */
export async function waitAppCaughtUp(
  app: RunningApp,
  end: Map<number, number>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // The group's offsets come from the background poll (GroupProgress.start), not a second one.
  while (!signal.aborted) {
    if (app.progress.caughtUpTo(end) && app.instances.allRunning()) return;
    if (Date.now() > deadline) {
      const exit = app.instances.lastExit ? `; ${app.instances.lastExit}` : "";
      const lag = describeLag(app.progress.offsets(), end);
      throw new AppError(
        `its group ${app.groupId} did not commit the input's end within ${Math.round(timeoutMs / 1000)}s (${lag})${exit}; it last wrote: ${app.instances.lastLog()}`,
      );
    }
    await sleep(250);
  }
}
