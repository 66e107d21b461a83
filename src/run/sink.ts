import { UsageError } from "../errors.js";
import { AppSink } from "../app/sink.js";
import type { AppSettings } from "../profiles/schema.js";
import { drainSink } from "../sinks/drain.js";
import { openSink, sinkConfig, type Sink, type SinkConfig } from "../sinks/index.js";
import { runFiles, type RunInfo } from "./run-dir.js";

/**
 * Connects to the run's sink and creates its tables. Unreachable: an InfrastructureError naming
 * the host (exit 3); tables already there (the prefix was used before): a UsageError (exit 2).
 */
export async function prepareSink(config: SinkConfig, app?: AppSettings): Promise<Sink> {
  const sink = await openRunSink(config, app);
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

/** The run's sink: the tool's own tables, or those of the user's app (app.sink). */
export async function openRunSink(config: SinkConfig, app?: AppSettings): Promise<Sink> {
  if (app?.sink) return AppSink.connect(config, app.sink);
  return openSink(config);
}

/** The sink of a recorded run, located again from its profile, prefix and directory. */
export function recordedSink(info: RunInfo, dir: string): SinkConfig | undefined {
  return info.sink ? sinkConfig(info.profile.sink, info.prefix, dir) : undefined;
}

/** The final sink drain of a recorded run, over a connection of its own. */
export async function drainRecordedSink(info: RunInfo, dir: string): Promise<void> {
  const config = recordedSink(info, dir);
  if (!config) return;
  const sink = await openRunSink(config, info.profile.app);
  try {
    await drainSink(sink, runFiles(dir).drainSink);
  } finally {
    await sink.close();
  }
}
