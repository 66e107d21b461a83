/**
 * Settings that cannot keep the profile's claim. The run still happens (demonstrating the
 * violation is the point); each warning names the setting and the fault that will expose it.
 */
import type { Profile } from "./schema.js";

type Check = (p: Profile) => string | undefined;

const DEDUP_SINK_MODES: readonly string[] = ["idempotent", "upsert-versioned"];

/** A sink keyed on the message identity absorbs every duplicate upstream of it. */
const dedupSink = (p: Profile) => p.sink.type !== "none" && DEDUP_SINK_MODES.includes(p.sink.mode);
const atomicSink = (p: Profile) => p.sink.type !== "none" && p.sink.mode === "atomic";
/** The built-in processor: its settings say what it does (a user's app is judged, not read). */
const hasProcessor = (p: Profile) => p.processor.enabled && p.app === undefined;
const retriesDuplicate = (p: Profile) =>
  p.producer.acks !== 0 && p.producer.retries > 0 && !p.producer.idempotent;

const ackLoss: Check = (p) =>
  p.producer.acks === 0
    ? "producer.acks is 0: the producer is never told a write was stored, and a send lost on a " +
      "cut connection is gone (fault cut-connection)"
    : undefined;

const noRetries: Check = (p) =>
  p.producer.acks !== 0 && p.producer.retries === 0
    ? "producer.retries is 0: a send that fails on a cut connection is not retried and is lost " +
      "unless the application resends it (fault cut-connection)"
    : undefined;

const commitBeforeLoses: Check = (p) =>
  hasProcessor(p) && p.processor.commit === "before" && !atomicSink(p)
    ? "processor.commit is before: a crash after the commit, before processing skips a chunk " +
      "(fault crash-consumer:point=after-commit-before-process)"
    : undefined;

const AT_MOST_ONCE: Check[] = [
  (p) =>
    retriesDuplicate(p) && !dedupSink(p)
      ? `producer.retries is ${p.producer.retries} with acks=${p.producer.acks} and no idempotence: ` +
        "a retry after a lost ack stores a message twice (fault drop-acks)"
      : undefined,
  (p) =>
    hasProcessor(p) &&
    (p.processor.commit === "after" || p.processor.commit === "auto") &&
    !dedupSink(p) &&
    !atomicSink(p)
      ? `processor.commit is ${p.processor.commit}: a crash after processing, before the commit ` +
        "processes a chunk again (fault crash-consumer:point=after-process-before-commit)"
      : undefined,
];

/** acks=1 on a replicated topic: a leader failover loses what the followers did not have yet. */
const leaderAckLoss: Check = (p) =>
  p.producer.acks === 1 && p.workload.replicationFactor > 1
    ? "producer.acks is 1: a write acked by a leader that fails before its followers have it " +
      "is lost (faults slow-replication then kill-broker on the leader)"
    : undefined;

const AT_LEAST_ONCE: Check[] = [ackLoss, noRetries, leaderAckLoss, commitBeforeLoses];

const EXACTLY_ONCE: Check[] = [
  ackLoss,
  noRetries,
  (p) =>
    p.producer.acks === 1
      ? "producer.acks is 1: a write acked by a leader that fails before replicating it is lost " +
        "(a leader failure on a replicated topic)"
      : undefined,
  (p) =>
    retriesDuplicate(p) && !dedupSink(p) && !p.app
      ? "producer.idempotent is false and nothing downstream deduplicates by message id: a retry " +
        "after a lost ack stores a message twice (fault drop-acks)"
      : undefined,
  commitBeforeLoses,
  (p) => {
    if (!hasProcessor(p) || p.sink.type !== "none" || p.processor.commit === "transaction") {
      return undefined;
    }
    if (p.processor.commit === "before") return undefined; // commitBeforeLoses says it
    return (
      `processor.commit is ${p.processor.commit}: output and offsets are not committed together, ` +
      "so a crash after processing, before the commit writes a chunk's output twice " +
      "(fault crash-consumer:point=after-process-before-commit); use commit: transaction"
    );
  },
  (p) =>
    hasProcessor(p) && p.sink.type !== "none" && p.sink.mode === "plain"
      ? "sink.mode is plain: a crash after the sink write, before the offset commit writes the " +
        "rows twice (fault crash-consumer:point=after-sink-write-before-commit); use idempotent or atomic"
      : undefined,
  (p) =>
    hasProcessor(p) && p.producer.transactional && p.processor.isolation === "read_uncommitted"
      ? "processor.isolation is read_uncommitted: the processor also reads records of aborted " +
        "input transactions"
      : undefined,
];

const CHECKS: Record<Profile["claims"], Check[]> = {
  "at-most-once": AT_MOST_ONCE,
  "at-least-once": AT_LEAST_ONCE,
  "exactly-once": EXACTLY_ONCE,
};

/** Why the profile's settings cannot keep its claim; empty when they can. */
export function claimWarnings(profile: Profile): string[] {
  return CHECKS[profile.claims]
    .map((check) => check(profile))
    .filter((w): w is string => w !== undefined)
    .map((w) => `claims ${profile.claims}, but ${w}`);
}
