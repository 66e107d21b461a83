/**
 * What a failed send means: `fail` when the broker definitely did not store any record of the
 * batch, `unknown` when it may have. Getting this wrong one way is costly: a false `fail` turns
 * a record that was stored (a possible duplicate) into a claimed loss; a false `unknown` only
 * weakens a check. So `fail` needs proof, and everything unproven is `unknown`.
 *
 * kafkajs reports only the last error of a send, wrapped (KafkaJSNumberOfRetriesExceeded with
 * `cause` and `retryCount`, KafkaJSNonRetriableError with `cause`, KafkaJSProtocolError with
 * `type`): the cause chain is walked. Earlier attempts are not reported, so a definite last error
 * proves nothing about them — unless the rejection is deterministic (the same records get the
 * same answer from any broker, every time) or there was only one attempt.
 */
import { MisconfigurationError } from "../errors.js";

/** A failed send, classified. */
export interface Classification {
  outcome: "fail" | "unknown";
  /** the protocol error type (MESSAGE_TOO_LARGE) or else the innermost error's class name */
  kind: string;
  /** set when the error says the setup is wrong: every further send will be refused alike */
  misconfiguration?: Misconfiguration;
}

export interface SendContext {
  /** how many partitions the batch's records went to */
  partitions: number;
  /** the error came from connecting the producer: no record of the batch was sent */
  beforeSend?: boolean;
}

/** An error no retry can fix, what it means, and what to change. */
export interface Misconfiguration {
  kind: string;
  meaning: string;
  fix: string;
  /** the profile asks for something the cluster refuses (exit 2), rather than the cluster or access (exit 3) */
  profileAtFault: boolean;
}

/**
 * The broker refuses the whole request, for every partition, on every attempt and from every
 * broker (permissions, protocol versions, request settings, the topic name): nothing was stored.
 */
const WHOLE_REQUEST = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "SASL_AUTHENTICATION_FAILED",
  "UNSUPPORTED_SASL_MECHANISM",
  "ILLEGAL_SASL_STATE",
  "INVALID_REQUIRED_ACKS",
  "UNSUPPORTED_VERSION",
  "UNSUPPORTED_FOR_MESSAGE_FORMAT",
  "INVALID_TOPIC_EXCEPTION",
  "KafkaJSSASLAuthenticationError",
  "KafkaJSServerDoesNotSupportApiKey",
]);

/**
 * The broker refuses one partition's records for what they are (size, format), so every attempt
 * was refused the same way — but only for that partition: the other partitions of the same
 * request may have been stored. Definite only for a batch that went to one partition.
 */
const PARTITION_DETERMINISTIC = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_TIMESTAMP",
  "CORRUPT_MESSAGE",
]);

/**
 * Refused before append, but not for what the records are: another attempt may have fared
 * differently. Definite only when there was a single attempt and a single partition.
 * (NOT_LEADER, REQUEST_TIMED_OUT and NOT_ENOUGH_REPLICAS_AFTER_APPEND are not here: a leader
 * that lost leadership or timed out waiting for replicas may already have appended.)
 */
const PARTITION_ONE_ATTEMPT = new Set([
  "NOT_ENOUGH_REPLICAS",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
]);

/** Thrown by kafkajs while preparing an attempt, before any produce request of it was sent. */
const NOT_SENT = new Set([
  "KafkaJSMetadataNotLoaded",
  "KafkaJSTopicMetadataNotLoaded",
  "KafkaJSBrokerNotFound",
]);

const RESIZE = "lower workload.messageSize or producer.batchBytes";

/** Errors that will refuse every send of the run: the run stops early and says what to change. */
const MISCONFIGURATIONS: Record<string, Omit<Misconfiguration, "kind">> = {
  MESSAGE_TOO_LARGE: {
    meaning: "a record batch is larger than the topic's max.message.bytes",
    fix: RESIZE,
    profileAtFault: true,
  },
  RECORD_LIST_TOO_LARGE: {
    meaning: "a produce request is larger than the broker accepts",
    fix: RESIZE,
    profileAtFault: true,
  },
  INVALID_REQUIRED_ACKS: {
    meaning: "the broker does not accept this acks setting",
    fix: "set producer.acks to all, 1 or 0",
    profileAtFault: true,
  },
  INVALID_TOPIC_EXCEPTION: {
    meaning: "the topic name is not valid",
    fix: "choose a --topic-prefix of letters, digits, '.', '_' and '-'",
    profileAtFault: true,
  },
  INVALID_RECORD: {
    meaning: "the broker refuses the records for the topic's settings",
    fix: "check the cluster's topic defaults (a compacted topic needs keys: set workload.keys > 0)",
    profileAtFault: false,
  },
  TOPIC_AUTHORIZATION_FAILED: {
    meaning: "the client may not write the run's topics",
    fix: "grant the client's principal WRITE and DESCRIBE on topics starting with the run's prefix",
    profileAtFault: false,
  },
  CLUSTER_AUTHORIZATION_FAILED: {
    meaning:
      "the client lacks a cluster permission (an idempotent producer needs IDEMPOTENT_WRITE)",
    fix: "grant IDEMPOTENT_WRITE on the cluster, or set producer.idempotent: false",
    profileAtFault: false,
  },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: {
    meaning: "the client may not use the run's transactional ids",
    fix: "grant WRITE and DESCRIBE on transactional ids starting with the run's prefix",
    profileAtFault: false,
  },
  SASL_AUTHENTICATION_FAILED: {
    meaning: "the brokers refused the credentials",
    fix: "check --sasl, --sasl-username and KAFKA_CHAOS_SASL_PASSWORD",
    profileAtFault: false,
  },
  KafkaJSSASLAuthenticationError: {
    meaning: "the brokers refused the credentials",
    fix: "check --sasl, --sasl-username and KAFKA_CHAOS_SASL_PASSWORD",
    profileAtFault: false,
  },
  UNSUPPORTED_SASL_MECHANISM: {
    meaning: "the brokers do not offer this SASL mechanism",
    fix: "choose a --sasl mechanism the listener enables",
    profileAtFault: false,
  },
  UNSUPPORTED_VERSION: {
    meaning: "the brokers do not support a request this producer needs",
    fix: "use a newer Kafka, or turn off producer.idempotent / producer.transactional",
    profileAtFault: false,
  },
  KafkaJSServerDoesNotSupportApiKey: {
    meaning: "the brokers do not support a request this producer needs",
    fix: "use a newer Kafka, or turn off producer.idempotent / producer.transactional",
    profileAtFault: false,
  },
  UNSUPPORTED_FOR_MESSAGE_FORMAT: {
    meaning: "the topic's message format is too old for this producer",
    fix: "use a newer message format, or turn off producer.idempotent / producer.transactional",
    profileAtFault: false,
  },
};

interface ErrorLike {
  name?: unknown;
  type?: unknown;
  message?: unknown;
  cause?: unknown;
  retryCount?: unknown;
  errors?: unknown;
}

/** The error and its causes, outermost first (aggregated errors flattened in), cycle-safe. */
export function causeChain(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number) => {
    if (e === null || typeof e !== "object" || seen.has(e) || depth > 16) return;
    seen.add(e);
    const like = e as ErrorLike;
    chain.push(like);
    if (Array.isArray(like.errors)) for (const inner of like.errors) visit(inner, depth + 1);
    visit(like.cause, depth + 1);
  };
  visit(err, 0);
  return chain;
}

/** MESSAGE_TOO_LARGE for a protocol error anywhere in the chain, else the innermost class name. */
export function errorKind(err: unknown): string {
  const chain = causeChain(err);
  const typed = chain.find((e) => typeof e.type === "string");
  if (typed) return String(typed.type);
  const named = [...chain].reverse().find((e) => typeof e.name === "string" && e.name !== "Error");
  return named ? String(named.name) : "Error";
}

/** The send error as the history records it: class, protocol type when there is one, message, cause. */
export function describeError(err: unknown): string {
  const chain = causeChain(err);
  const e = chain[0] ?? {};
  const name = typeof e.name === "string" ? e.name : "Error";
  const message = typeof e.message === "string" ? e.message : String(err);
  const typed = chain.find((c) => typeof c.type === "string");
  const type = typed ? ` [${String(typed.type)}]` : "";
  const inner = chain[1];
  const cause =
    inner && typeof inner.message === "string" && inner.message !== message
      ? ` (${inner.message})`
      : "";
  return `${name}${type}: ${message}${cause}`;
}

/** The misconfiguration an error reveals, if it is one no retry can fix. */
export function misconfigurationOf(err: unknown): Misconfiguration | undefined {
  const kind = errorKind(err);
  const found = MISCONFIGURATIONS[kind];
  return found ? { kind, ...found } : undefined;
}

/** fail or unknown for a send that threw `err`; see the top of this file for the rules. */
export function classifySendError(err: unknown, ctx: SendContext): Classification {
  const kind = errorKind(err);
  const misconfiguration = misconfigurationOf(err);
  const result = (outcome: Classification["outcome"]): Classification =>
    misconfiguration ? { outcome, kind, misconfiguration } : { outcome, kind };
  if (ctx.beforeSend) return result("fail");
  return result(definitelyRefused(causeChain(err), ctx) ? "fail" : "unknown");
}

function definitelyRefused(chain: ErrorLike[], ctx: SendContext): boolean {
  // An aggregate is definite only if every error in it is.
  const aggregate = chain.find((e) => Array.isArray(e.errors) && e.errors.length > 0);
  if (aggregate) {
    return (aggregate.errors as unknown[]).every((inner) =>
      definitelyRefused(causeChain(inner), ctx),
    );
  }
  const retries = chain.find((e) => e.name === "KafkaJSNumberOfRetriesExceeded");
  const attempts = retries ? Number(retries.retryCount ?? Number.NaN) + 1 : undefined;
  // Retries were made: the attempts before the last may have stored the batch (a timeout).
  if (attempts !== undefined && attempts !== 1) return false;
  const kinds = chain.flatMap((e) => [e.type, e.name]).filter((k) => typeof k === "string");
  const has = (set: Set<string>) => kinds.some((k) => set.has(k));
  if (has(WHOLE_REQUEST)) return true;
  const onePartition = ctx.partitions === 1;
  if (has(PARTITION_DETERMINISTIC)) return onePartition;
  // One attempt is known only from a retry count of 0 (kafkajs configured with retries: 0).
  if (attempts !== 1) return false;
  if (has(NOT_SENT)) return true;
  if (has(PARTITION_ONE_ATTEMPT)) return onePartition;
  return false;
}

const FIRST_SENDS = 3;
const SHARE_MIN_SENDS = 10;
const SHARE = 0.5;

/**
 * Watches completed sends for the same misconfiguration over and over: the first
 * {@link FIRST_SENDS} sends all refused alike, or at least {@link SHARE_MIN_SENDS} sends and half
 * of all sends so far. Then the run should stop rather than record thousands of refusals.
 */
export class RefusalWatch {
  private sends = 0;
  private readonly hits = new Map<string, number>();

  /** Records one completed send; returns the error to stop the run with, if it is time. */
  note(misconfiguration?: Misconfiguration): MisconfigurationError | undefined {
    this.sends += 1;
    if (!misconfiguration) return undefined;
    const n = (this.hits.get(misconfiguration.kind) ?? 0) + 1;
    this.hits.set(misconfiguration.kind, n);
    const first = n === this.sends && n >= FIRST_SENDS;
    const share = n >= SHARE_MIN_SENDS && n >= this.sends * SHARE;
    if (!first && !share) return undefined;
    const { kind, meaning, fix, profileAtFault } = misconfiguration;
    const which = first ? `the first ${n}` : `${n} of ${this.sends}`;
    return new MisconfigurationError(
      kind,
      n,
      `${kind}: ${which} sends were refused (${meaning}); fix: ${fix}`,
      profileAtFault,
    );
  }
}
