import type kafkajs from "kafkajs";
import type { Connection } from "../clients/connection.js";
import { crossCheck } from "./cross-check.js";
import { drainTopic, type DrainOptions, type DrainStats } from "./drain.js";
import { highWatermarks, topicEndOffsets } from "./offsets.js";
import { outputIdentity, type IdentityMode } from "../identity/identity.js";

export interface ReadOptions extends Omit<DrainOptions, "ends"> {
  /** A direct kafkajs client: end offsets and the cross-check's raw fetches. */
  kafka: kafkajs.Kafka;
  connection?: Connection;
}

/**
 * A final read that decides a verdict: the reader of record drains the topic up to its end
 * offsets (read_committed: the last stable offsets; read_uncommitted: the high watermarks), then
 * the cross-check recomputes every partition from the raw log; they must agree.
 */
export async function readOfRecord(opts: ReadOptions): Promise<DrainStats> {
  const high = await highWatermarks(opts.kafka, opts.topic);
  const ends = opts.readCommitted ? await topicEndOffsets(opts.kafka, opts.topic) : high;
  const { kafka, ...drain } = opts;
  const stats = await drainTopic({ ...drain, ends });
  await crossCheck({
    kafka,
    bootstrap: opts.bootstrap,
    topic: opts.topic,
    readCommitted: opts.readCommitted,
    ends,
    high,
    read: stats.offsets,
  });
  return stats;
}

/**
 * A read described by data alone (it can cross to a child process): the identity is named by
 * its mode (where the app puts it in its output) instead of given as a function.
 */
export type ReadSpec = Omit<DrainOptions, "ends" | "identify" | "idleTimeoutMs"> & {
  /** where the run's identity is in the records (the app's output); default: the headers */
  identity?: IdentityMode;
};

/** readOfRecord of a read given as a ReadSpec. */
export function readBySpec(spec: ReadSpec, kafka: kafkajs.Kafka): Promise<DrainStats> {
  const { identity, ...rest } = spec;
  return readOfRecord({
    ...rest,
    kafka,
    ...(identity ? { identify: outputIdentity(identity, spec.runId) } : {}),
  });
}
