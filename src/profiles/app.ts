/** The `app` section: the user's own program as the processor stage. */
import { z } from "zod";
import { duration, hostPort, strictObject, whole } from "./fields.js";
import type { ProcessorSettings, SinkSettings } from "./schema.js";

/** How the app signals that it is ready: a line of its output, a TCP port it opens, or a delay. */
const ready = z.union([
  strictObject({ log: z.string().min(1, "expected a regular expression such as RUNNING") }),
  /** instance i listens on port + i */
  strictObject({ port: whole(1).max(65535) }),
  strictObject({ delay: duration }),
]);

/**
 * Where the run's identity travels through the app: the input's kc-* headers copied to the
 * output (default), the key ("<producer>:<seq>"), or a field of a JSON value (a dot path).
 */
const identity = z.union([z.enum(["headers", "key"]), strictObject({ value: z.string().min(1) })]);

export type IdentityMode = z.output<typeof identity>;

/**
 * One extra broker listener per broker, advertised at a proxy address: the app bootstraps at
 * the proxies and reaches every broker only through them (network faults with role app).
 */
export const appListener = strictObject({
  broker: whole(0),
  /** the address the broker advertises on this listener; the run's proxy listens here */
  proxy: hostPort,
  /** the broker's own address of that listener, where the proxy forwards to */
  upstream: hostPort,
});

/**
 * The user's own program as the processor stage: the tool starts `instances` copies with the
 * run's topics, group and sink in their environment (KAFKA_CHAOS_*), crashes, stops or pauses
 * them as the faults say, and judges what they wrote.
 */
export const app = strictObject({
  command: z.array(z.string().min(1)).min(1, "expected the program and its arguments"),
  /** working directory; relative to the profile file's directory */
  cwd: z.string().min(1).optional(),
  env: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .default({}),
  instances: whole(1).max(8).default(1),
  ready: ready.default({ delay: 2000 }),
  /** longest wait for an instance to become ready */
  readyTimeout: duration.default(60_000),
  /** longest wait, once the input is produced, for the app's group to commit every offset */
  catchUpTimeout: duration.default(120_000),
  /** SIGTERM, then SIGKILL after this long */
  stopTimeout: duration.default(10_000),
  /** ms a crashed or stopped instance stays down, unless the fault says `restart` */
  restartDelay: duration.default(1000),
  identity: identity.default("headers"),
  listeners: z.array(appListener).min(1).optional(),
  /** a sink app (sink.type postgres): how its table is made and read back */
  sink: strictObject({
    /** statements run before the app starts; {table} is the run's table */
    setup: z.array(z.string().min(1)).default([]),
    /** lists one row per row the app wrote: an `id` column "<producer>:<seq>", or producer and seq */
    query: z.string().min(1),
  }).optional(),
});

export type AppSettings = z.output<typeof app>;

/** An app is the processor stage; a sink app needs postgres and says how to read its rows. */
export function appProblems(profile: {
  processor: ProcessorSettings;
  sink: SinkSettings;
  app?: AppSettings;
}) {
  const issue = (path: (string | number)[], message: string) =>
    ({ code: "custom", path, message }) as const;
  const { app: a, sink: s } = profile;
  const problems = [];
  if (!profile.processor.enabled) {
    problems.push(
      issue(["processor", "enabled"], "must not be false with app (the app is the processor)"),
    );
  }
  if (s.type === "sqlite") {
    problems.push(
      issue(
        ["sink", "type"],
        "an app writes to postgres (sink.type postgres) or to the output topic",
      ),
    );
  }
  if (s.type === "postgres" && !a?.sink) {
    problems.push(
      issue(
        ["app", "sink"],
        "required with sink.type postgres: the query that lists the ids the app wrote",
      ),
    );
  }
  if (s.type === "none" && a?.sink) {
    problems.push(issue(["app", "sink"], "only with sink.type postgres"));
  }
  return problems;
}
