/**
 * The profile schema: the delivery guarantee a pipeline claims, how its producer is set up,
 * the workload, default faults, and which counts must be zero at which hop.
 * Every object is strict (unknown keys are rejected); every field but `name` has a default.
 */
import { z } from "zod";
import {
  COUNTS,
  HOPS,
  SINK_MODES,
  SINK_TYPES,
  type Expect,
  type HopName,
} from "../history/events.js";
import { CLAIMS, claimChecks, type Claim } from "../reconcile/claims.js";
import type { FaultProblem } from "../faults/kind.js";
import { kindOf } from "../faults/kinds.js";
import { FaultSpecError, toFault, type Fault } from "../faults/spec.js";
import { app, appListener, appProblems, type AppSettings } from "./app.js";
import { duration, strictObject, whole } from "./fields.js";

export type { AppSettings, IdentityMode } from "./app.js";

export { CLAIMS, type Claim } from "../reconcile/claims.js";

/** A fault spec string or object (see faults/spec.ts); the issue path ends at the bad key. */
const fault = z.unknown().transform((value, ctx): Fault => {
  try {
    return toFault(value);
  } catch (error) {
    if (!(error instanceof FaultSpecError)) throw error;
    ctx.addIssue({ code: "custom", message: error.problem, path: error.key ? [error.key] : [] });
    return z.NEVER;
  }
});

const acks = z
  .literal(["all", -1, 1, 0])
  .prefault("all")
  .transform((value) => (value === "all" ? -1 : value));

const producer = strictObject({
  acks,
  retries: whole(0).default(10),
  idempotent: z.boolean().default(false),
  transactional: z.boolean().default(false),
  maxInFlight: whole(1).default(5),
  requestTimeoutMs: whole(1).default(2000),
  retryBackoffMs: whole(0).default(100),
  /** messages per send() call, at most */
  batchSize: whole(1).default(100),
  /**
   * bytes per send() call, at most (payloads, keys and identity headers): a batch closes at
   * batchSize messages or before it would exceed this; a larger message travels alone
   */
  batchBytes: whole(1024).default(1_048_576),
  compression: z.enum(["none", "gzip"]).default("none"),
  /**
   * transactional only: ms a transaction stays open. Batches are added to it (one send each,
   * each with its own invoke and outcome) until it has been open this long, then it commits;
   * 1 = one batch per transaction. Default 100, as Kafka Streams' commit.interval.ms under
   * exactly-once.
   */
  transactionMs: whole(1).default(100),
}).superRefine((p, ctx) => {
  const problem = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [path], message });
  if (p.transactional && !p.idempotent) problem("idempotent", "must be true when transactional");
  if (!p.idempotent) return;
  if (p.acks !== -1) problem("acks", `must be all (-1) when idempotent, got ${p.acks}`);
  if (p.retries === 0) problem("retries", "must be > 0 when idempotent");
  if (p.maxInFlight > 5) problem("maxInFlight", `must be at most 5 when idempotent`);
});

const workload = strictObject({
  messages: whole(1).default(20_000),
  /** ms; when set, the run stops at whichever of messages and duration comes first */
  duration: duration.optional(),
  /** messages per second, 0 = as fast as possible */
  rate: z.number().min(0).default(0),
  /** payload bytes; up to what the cluster's socket.request.max.bytes allows (checked at start) */
  messageSize: whole(0).default(100),
  /** distinct keys, 0 = no key */
  keys: whole(0).default(16),
  partitions: whole(1).default(3),
  replicationFactor: whole(1).default(1),
  producers: whole(1).default(1),
  /**
   * each producer in its own worker thread with its own client, so producers use more than one
   * core (kafkajs's encoding is most of a producer's CPU); false: all in the main thread
   */
  producerThreads: z.boolean().default(false),
  /** ms the producer or processor may go without progress no fault explains (default 60 s) */
  stallLimit: duration.optional(),
  /**
   * topic configs of the run's own topics, e.g. min.insync.replicas: 2 or
   * unclean.leader.election.enable: true (never applied to any other topic)
   */
  topicConfig: z
    .record(
      z
        .string()
        .regex(/^[a-z0-9.]+$/, "expected a Kafka topic config name such as min.insync.replicas"),
      z.union([z.string(), z.number(), z.boolean()]).transform(String),
    )
    .optional(),
});

const brokerCommand = z.string().trim().min(1, "expected a shell command such as ssh {host} …");

/**
 * Broker faults on a cluster the tool did not start: a shell command per action, with {host},
 * {nodeId} and {port} filled in; the KAFKA_CHAOS_BROKER_<ACTION> environment variables win.
 */
const brokers = strictObject({
  commands: strictObject({
    kill: brokerCommand.optional(),
    stop: brokerCommand.optional(),
    start: brokerCommand.optional(),
    pause: brokerCommand.optional(),
    resume: brokerCommand.optional(),
    isolate: brokerCommand.optional(),
    heal: brokerCommand.optional(),
  }).prefault({}),
  /** bound on each command, and on the wait for a started broker to listen (default 60 s) */
  timeout: duration.optional(),
});

const counts = z.array(z.enum(COUNTS)).transform((list) => [...new Set(list)]);

/** One entry per hop of events.ts (`satisfies` fails to compile if a hop is missing). */
const expectShape = {
  "producer-broker": counts.optional(),
  "broker-consumer": counts.optional(),
  "processor-output": counts.optional(),
  "consumer-sink": counts.optional(),
  "end-to-end": counts.optional(),
  // last, so the list of allowed hops in "unknown field" errors keeps its earlier prefix
  "broker-storage": counts.optional(),
} satisfies Record<HopName, unknown>;

/** Hops that exist only when the pipeline has a processor stage. */
const PROCESSOR_HOPS = [
  "broker-consumer",
  "processor-output",
  "consumer-sink",
] as const satisfies HopName[];

export const COMMIT_MODES = ["before", "after", "auto", "transaction"] as const;
export type CommitMode = (typeof COMMIT_MODES)[number];

/** The broker's default group.min.session.timeout.ms and group.max.session.timeout.ms. */
const MIN_SESSION_TIMEOUT_MS = 6000;
const MAX_SESSION_TIMEOUT_MS = 1_800_000;

/**
 * The processor stage: consume from the input topic, produce each record to the output topic,
 * commit the input offsets as `commit` says. Its clients have their own proxies (role processor).
 */
const processor = strictObject({
  /** false: producer-only pipeline (no output topic; hops producer-broker and end-to-end) */
  enabled: z.boolean().default(true),
  /**
   * before: commit the chunk's offsets, then process (at-most-once);
   * after: process, then commit (at-least-once);
   * auto: kafkajs auto-commit every autoCommitIntervalMs;
   * transaction: output and offsets in one transaction (exactly-once).
   */
  commit: z.enum(COMMIT_MODES).default("after"),
  autoCommitIntervalMs: whole(1).default(500),
  /** worker processes in the consumer group */
  workers: whole(1).max(8).default(1),
  /** input records per processing chunk (and per commit / transaction) */
  batchSize: whole(1).default(100),
  /** crash detection; the broker refuses less than 6000 by default */
  sessionTimeoutMs: whole(MIN_SESSION_TIMEOUT_MS).max(MAX_SESSION_TIMEOUT_MS).default(6000),
  heartbeatIntervalMs: whole(1).default(1000),
  /** the processor consumer's isolation level */
  isolation: z.enum(["read_committed", "read_uncommitted"]).default("read_committed"),
  /**
   * commit: transaction only: ms a transaction takes chunks for before it commits (output and
   * offsets), as Kafka Streams' commit.interval.ms (100 ms under exactly-once); it also
   * commits when the records fetched for one partition run out. 1 = one chunk per transaction.
   */
  commitIntervalMs: whole(1).default(100),
  /** fraction of transactions aborted on purpose (commit: transaction only) */
  abortRate: z.number().min(0).max(1).default(0),
  /** ms a crashed worker stays down before it is restarted */
  restartDelayMs: whole(0).default(1000),
}).superRefine((p, ctx) => {
  if (p.heartbeatIntervalMs >= p.sessionTimeoutMs) {
    ctx.addIssue({
      code: "custom",
      path: ["heartbeatIntervalMs"],
      message: `must be less than sessionTimeoutMs (${p.sessionTimeoutMs})`,
    });
  }
  if (p.abortRate > 0 && p.commit !== "transaction") {
    ctx.addIssue({
      code: "custom",
      path: ["abortRate"],
      message: `must be 0 unless commit is transaction (commit is ${p.commit})`,
    });
  }
});

export type ProcessorSettings = z.output<typeof processor>;

/**
 * The external sink the processor writes to instead of an output topic (type none: it writes
 * to the output topic). postgres: `url`, else $KAFKA_CHAOS_PG_URL, else the local stack's.
 */
const sink = strictObject({
  type: z.enum(SINK_TYPES).default("none"),
  mode: z.enum(SINK_MODES).default("plain"),
  url: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, "expected a postgres://user@host:port/database URL")
    .optional(),
}).superRefine((s, ctx) => {
  if (s.url !== undefined && s.type !== "postgres") {
    ctx.addIssue({
      code: "custom",
      path: ["url"],
      message: `only for type postgres (type is ${s.type})`,
    });
  }
});

export type SinkSettings = z.output<typeof sink>;

const NO_SINK: SinkSettings = { type: "none", mode: "plain" };

export type { FaultProblem } from "../faults/kind.js";

/**
 * Checks a fault against the profile's processor and sink (each kind knows what it needs).
 * Used by the schema and for --fault overrides. Returns undefined when the fault fits.
 */
export function faultProblem(
  fault: Fault,
  settings: ProcessorSettings,
  sinkSettings: SinkSettings = NO_SINK,
  appSettings?: AppSettings,
): FaultProblem | undefined {
  return kindOf(fault.type).fits(fault, {
    processor: settings,
    sink: sinkSettings,
    ...(appSettings ? { app: appSettings } : {}),
  });
}

/** One check the claim implies, loosened on purpose: it shows in every output of the run. */
const relaxation = strictObject({
  hop: z.enum(HOPS),
  count: z.enum(COUNTS),
  reason: z.string().trim().min(1, "say why this check of the claim is relaxed"),
});

/** The client libraries the built-in producer and processor run on. */
export const CLIENTS = ["kafkajs", "librdkafka"] as const;
export type ClientName = (typeof CLIENTS)[number];

export const profileSchema = strictObject({
  name: z.string().min(1),
  description: z.string().default(""),
  /** the delivery guarantee the pipeline claims */
  claims: z.enum(CLAIMS).default("at-least-once"),
  producer: producer.prefault({}),
  workload: workload.prefault({}),
  processor: processor.prefault({}),
  sink: sink.prefault({}),
  brokers: brokers.optional(),
  /** the client library of the built-in producer and processor */
  client: z.enum(CLIENTS).default("kafkajs"),
  /**
   * per role, broker listeners advertised at proxy addresses, for the librdkafka engine under
   * network faults (it has no socket factory); the local stack has them
   */
  listeners: strictObject({
    producer: z.array(appListener).min(1).optional(),
    processor: z.array(appListener).min(1).optional(),
  }).optional(),
  /** the user's own program in place of the built-in processor */
  app: app.optional(),
  faults: z.array(fault).default([]),
  /** the fault schedule's seed when --seed is not given (explore's replay profiles carry one) */
  seed: whole(0).optional(),
  /** hop → counts that must be zero there, on top of the checks the claim implies */
  expect: strictObject(expectShape).prefault({}),
  /** checks the claim implies that this pipeline is not held to, each with a reason */
  relax: z.array(relaxation).default([]),
}).superRefine((profile, ctx) => {
  for (const [i, r] of profile.relax.entries()) {
    const problem = relaxProblem(profile, r.hop, r.count);
    if (problem) ctx.addIssue({ code: "custom", path: ["relax", i, "count"], message: problem });
  }
  for (const [i, f] of profile.faults.entries()) {
    const found = faultProblem(f, profile.processor, profile.sink, profile.app);
    if (found) {
      ctx.addIssue({ code: "custom", path: ["faults", i, found.key], message: found.problem });
    }
  }
  if (profile.app) for (const problem of appProblems(profile)) ctx.addIssue(problem);
  else for (const problem of sinkProblems(profile.processor, profile.sink)) ctx.addIssue(problem);
  for (const [hop, why] of missingHops(profile.processor, profile.sink)) {
    if (profile.expect[hop] === undefined) continue;
    ctx.addIssue({ code: "custom", path: ["expect", hop], message: `no such hop: ${why}` });
  }
});

/** Why a relax entry cannot apply: the hop is missing, or the claim never checked that count. */
function relaxProblem(
  profile: { claims: Claim; processor: ProcessorSettings; sink: SinkSettings; expect: Expect },
  hop: HopName,
  count: (typeof COUNTS)[number],
): string | undefined {
  const missing = missingHops(profile.processor, profile.sink).find(([h]) => h === hop);
  if (missing) return `no hop ${hop}: ${missing[1]}`;
  if (profile.expect[hop]?.includes(count)) {
    return `${count} at ${hop} is both in expect and in relax; keep one`;
  }
  if (!claimChecks(profile.claims, hop).has(count)) {
    return `${count} at ${hop} is not a check of the claim ${profile.claims}; nothing to relax`;
  }
  return undefined;
}

/** A sink is the processor's output: it needs a processor, and a Kafka transaction cannot span it. */
function sinkProblems(p: ProcessorSettings, s: SinkSettings) {
  if (s.type === "none") return [];
  const issue = (path: (string | number)[], message: string) =>
    ({ code: "custom", path, message }) as const;
  if (!p.enabled) {
    return [issue(["sink", "type"], "a sink needs the processor (processor.enabled is false)")];
  }
  if (p.commit === "transaction") {
    return [
      issue(
        ["processor", "commit"],
        "transaction cannot include an external sink; use sink.mode atomic with commit after",
      ),
    ];
  }
  return [];
}

/** The hops a pipeline does not have, with why, for `expect` entries that name them. */
function missingHops(p: ProcessorSettings, s: SinkSettings): [HopName, string][] {
  if (!p.enabled) {
    const why = "the pipeline has no processor (processor.enabled is false)";
    return PROCESSOR_HOPS.map((hop) => [hop, why]);
  }
  if (s.type === "none") return [["consumer-sink", "the pipeline has no sink (sink.type is none)"]];
  return [["processor-output", `the processor writes to the ${s.type} sink, not to a topic`]];
}

export type Profile = z.output<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
