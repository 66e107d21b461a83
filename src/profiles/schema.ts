/**
 * The profile schema: the delivery guarantee a pipeline claims, how its producer is set up,
 * the workload, default faults, and which counts must be zero at which hop.
 * Every object is strict (unknown keys are rejected); every field but `name` has a default.
 */
import { z } from "zod";
import { COUNTS, type HopName } from "../history/events.js";
import { durationMs, FaultSpecError, toFault, type Fault } from "../faults/spec.js";

export const CLAIMS = ["at-most-once", "at-least-once", "exactly-once"] as const;
export type Claim = (typeof CLAIMS)[number];

/** z.strictObject whose unknown-key error lists the allowed keys. */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `unknown field; allowed: ${allowed}` : undefined,
  });
}

function whole(min: number) {
  return z.number().int().min(min);
}

/** A duration such as `30s` or a number of ms → ms (> 0). */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = durationMs(value);
  if (ms !== undefined && ms > 0) return ms;
  ctx.addIssue({ code: "custom", message: `expected a duration such as 30s, got "${value}"` });
  return z.NEVER;
});

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
  /** messages per send() call */
  batchSize: whole(1).default(100),
  compression: z.enum(["none", "gzip"]).default("none"),
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
  /** payload bytes */
  messageSize: whole(0).default(100),
  /** distinct keys, 0 = no key */
  keys: whole(0).default(16),
  partitions: whole(1).default(3),
  replicationFactor: whole(1).default(1),
  producers: whole(1).default(1),
});

const counts = z.array(z.enum(COUNTS)).transform((list) => [...new Set(list)]);

/** One entry per hop of events.ts (`satisfies` fails to compile if a hop is missing). */
const expectShape = {
  "producer-broker": counts.optional(),
  "end-to-end": counts.optional(),
} satisfies Record<HopName, unknown>;

export const profileSchema = strictObject({
  name: z.string().min(1),
  description: z.string().default(""),
  /** the delivery guarantee the pipeline claims */
  claims: z.enum(CLAIMS).default("at-least-once"),
  producer: producer.prefault({}),
  workload: workload.prefault({}),
  faults: z.array(fault).default([]),
  /** hop → counts that must be zero there (lostAcked and abortedReads are always enforced) */
  expect: strictObject(expectShape).prefault({}),
});

export type Profile = z.output<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
