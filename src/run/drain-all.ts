/** The final reads of a run's topics by the reader of record, after the run has ended. */
import fs from "node:fs";
import type kafkajs from "kafkajs";
import type { Connection } from "../clients/connection.js";
import { InfrastructureError } from "../errors.js";
import type { DrainStats } from "../reader/drain.js";
import { readBySpec, type ReadSpec } from "../reader/read.js";
import { readOfRecordApart } from "../reader/read-apart.js";
import { checkTopicIds } from "../reader/topic-ids.js";
import { waitTransactionsClosed } from "../reader/offsets.js";
import { runFiles, type RunInfo } from "./run-dir.js";
import { transactionalOutput } from "./topics.js";

/**
 * The final drain, over a direct connection: the input topic read_committed, and the output
 * topic both read_committed (what downstream readers see) and read_uncommitted (aborted too).
 */
export async function drainAll(
  direct: kafkajs.Kafka,
  info: RunInfo,
  dir: string,
  connection?: Connection,
): Promise<DrainStats | undefined> {
  const files = runFiles(dir);
  // A topic made again under the same name mid-run holds another life: never judged.
  if (info.topicIds) await checkTopicIds(info.bootstrap, connection, info.topicIds);
  const app = info.profile.app;
  const read = (topic: string, file: string, readCommitted: boolean, output = false): ReadSpec => ({
    bootstrap: info.bootstrap,
    ...(connection ? { connection } : {}),
    runId: info.runId,
    topic,
    file,
    readCommitted,
    // The app's output is read where the app puts the identity.
    ...(output && app ? { identity: app.identity } : {}),
  });
  const drain = (topic: string, file: string, readCommitted: boolean, output = false) =>
    readBySpec(read(topic, file, readCommitted, output), direct);
  const readInput = async (apart: boolean) => {
    const input = apart
      ? await readOfRecordApart(read(info.topics.input, files.drain, true))
      : await drain(info.topics.input, files.drain, true);
    fs.writeFileSync(files.drainEnds, `${JSON.stringify(Object.fromEntries(input.ends))}\n`);
  };
  const readOutput = async (output: string) => {
    // Without transactions the output has nothing a read_uncommitted reader sees apart.
    if (!transactionalOutput(info.profile)) return drain(output, files.drainOutput, true, true);
    // Uncommitted first: it finds the high watermarks, and what a read_committed reader sees
    // is only final once every transaction up to them has ended.
    const all = await drain(output, files.drainOutputUncommitted, false, true);
    const held = await waitTransactionsClosed(direct, output, all.ends, OPEN_TX_WAIT_MS);
    if (held.length > 0) {
      const where = held
        .map((h) => `p${h.partition} stable at ${h.stable} of ${h.high}`)
        .join(", ");
      throw new InfrastructureError(
        info.bootstrap,
        `a transaction on the output topic ${output} is still open after ${OPEN_TX_WAIT_MS / 1000}s (${where}): a killed producer's transaction ends only at its transaction.timeout.ms; judge the run later with: kafka-chaos reconcile ${dir}`,
      );
    }
    return drain(output, files.drainOutput, true, true);
  };
  const output = info.topics.output;
  if (!output) return void (await readInput(false));
  // Side by side: the input in a child process (librdkafka hands every record to JavaScript on
  // one thread, so two drains in one process are no faster than one after the other).
  const [input, stats] = await Promise.allSettled([readInput(true), readOutput(output)]);
  if (input.status === "rejected") throw input.reason;
  if (stats.status === "rejected") throw stats.reason;
  return stats.value;
}

/**
 * Longest wait for transactions left open on the output topic (a killed app instance's, whose
 * transactional id no restart reuses): the producer default transaction.timeout.ms is 60 s.
 */
const OPEN_TX_WAIT_MS = 90_000;
