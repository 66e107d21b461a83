import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import type { Profile } from "../profiles/schema.js";
import type { Clients } from "../report/report.js";
import type { SinkConfig } from "../sinks/index.js";

/** What a run directory's run.json holds: everything `reconcile` needs besides the two logs. */
export interface RunInfo {
  runId: string;
  profile: Profile;
  seed: number;
  bootstrap: string;
  toxiproxy: string;
  prefix: string;
  topics: { input: string; output?: string };
  /** topic → its topic id when the run made it (absent in older runs); checked before the drain */
  topicIds?: Record<string, string>;
  /** the external sink the processor writes to (a postgres URL without its password) */
  sink?: SinkConfig;
  groups: string[];
  proxies: string[];
  startedAt: string;
  /** the client library of each role (absent in older runs) */
  clients?: Clients;
  /** whether TLS / SASL were used, without secrets (reconcile needs the same flags again) */
  connection?: Record<string, unknown>;
}

export const runFiles = (dir: string) => ({
  info: path.join(dir, "run.json"),
  history: path.join(dir, "history.jsonl"),
  drain: path.join(dir, "drain.jsonl"),
  /** partition → the offset the input drain read up to (absent in older runs) */
  drainEnds: path.join(dir, "drain-ends.json"),
  drainOutput: path.join(dir, "drain-output.jsonl"),
  drainOutputUncommitted: path.join(dir, "drain-output-uncommitted.jsonl"),
  drainSink: path.join(dir, "drain-sink.jsonl"),
  /** what a reader following the input topic saw during the run (absent in older runs) */
  tail: path.join(dir, "tail.jsonl"),
  report: path.join(dir, "report.json"),
});

export function writeRunInfo(dir: string, info: RunInfo): void {
  fs.writeFileSync(runFiles(dir).info, `${JSON.stringify(info, null, 2)}\n`);
}

export function readRunInfo(dir: string): RunInfo {
  const file = runFiles(dir).info;
  if (!fs.existsSync(file)) {
    throw new UsageError(`${dir}: not a kafka-chaos run directory (no run.json)`);
  }
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as RunInfo;
  } catch (err) {
    throw new UsageError(`${file}: unreadable (${(err as Error).message})`);
  }
}

/** A sortable, readable run id: UTC time plus a random suffix. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Every name a run creates on the cluster and in Toxiproxy; all start with the prefix.
 * A processor writing to a sink (`toSink`) has no output topic.
 */
export function runNames(
  prefix: string,
  withProcessor: boolean,
  toSink = false,
  app = false,
  roles: ("producer" | "processor" | "app")[] = withProcessor
    ? ["producer", "processor"]
    : ["producer"],
) {
  const withOutput = withProcessor && !toSink;
  return {
    topics: {
      input: `${prefix}-input`,
      ...(withOutput ? { output: `${prefix}-output` } : {}),
    },
    groups: [`${prefix}-drain`, `${prefix}-resolve`, `${prefix}-processor`, `${prefix}-tail`]
      .concat(app ? [`${prefix}-app`] : [])
      .concat(withOutput ? [`${prefix}-drain-output`, `${prefix}-drain-output-uncommitted`] : []),
    roles,
    proxy: (role: string) => `${prefix}-${role}`,
  };
}
