import { UsageError } from "../errors.js";
import { drainSink } from "../workload/sinks/drain.js";
import { openSink, sinkConfig, type Sink, type SinkConfig } from "../workload/sinks/index.js";
import { runFiles, type RunInfo } from "./run-dir.js";

/**
 * Connects to the run's sink and creates its tables. Unreachable: an InfrastructureError naming
 * the host (exit 3); tables already there (the prefix was used before): a UsageError (exit 2).
 */
export async function prepareSink(config: SinkConfig): Promise<Sink> {
  const sink = await openSink(config);
  try {
    await sink.create();
  } catch (err) {
    await sink.close();
    if (!/already exists/i.test((err as Error).message)) throw err;
    throw new UsageError(
      `sink table ${config.table} already exists (left by a run with the same prefix?); ` +
        `choose another --topic-prefix or drop the table`,
    );
  }
  return sink;
}

/** The sink of a recorded run, located again from its profile, prefix and directory. */
export function recordedSink(info: RunInfo, dir: string): SinkConfig | undefined {
  return info.sink ? sinkConfig(info.profile.sink, info.prefix, dir) : undefined;
}

/** The final sink drain of a recorded run, over a connection of its own. */
export async function drainRecordedSink(info: RunInfo, dir: string): Promise<void> {
  const config = recordedSink(info, dir);
  if (!config) return;
  const sink = await openSink(config);
  try {
    await drainSink(sink, runFiles(dir).drainSink);
  } finally {
    await sink.close();
  }
}
