import path from "node:path";
import { InfrastructureError } from "../errors.js";
import type { DrainedRecord, SinkInfo, SinkMode } from "../history/events.js";
import type { SinkSettings } from "../profiles/schema.js";
import { LOCAL_POSTGRES_URL } from "../stack/paths.js";

/** One input record as the processor writes it to the sink. */
export interface SinkRow {
  producer: number;
  seq: number;
  partition: number;
  offset: number;
  worker: string;
  payload: Buffer | null;
}

/**
 * Where a run's sink lives. JSON-serialisable; `location` is the SQLite file or the
 * PostgreSQL URL (a password in it is never written to disk, see redacted()).
 */
export interface SinkConfig extends SinkInfo {
  location: string;
  /** atomic mode: input partition → next offset, written in the rows' transaction */
  offsetsTable: string;
}

/** A connection to the run's sink: the worker writes rows, the run creates, reads and drops. */
export interface Sink {
  /** Creates the run's tables; refuses tables that exist already (another run's). */
  create(): Promise<void>;
  /**
   * Writes one chunk of one input partition in one DB transaction; `inTransaction` runs once
   * the rows are written, before COMMIT. atomic: the partition's next offset goes in the same
   * transaction, and rows below the offset already stored are skipped (a re-delivery).
   * Returns the rows written.
   */
  write(partition: number, rows: SinkRow[], inTransaction: () => void): Promise<SinkRow[]>;
  /** atomic: input partition → next offset to consume, as stored in the DB */
  storedOffsets(): Promise<Map<number, number>>;
  /** Every row as (input partition, row id, producer, seq), ordered by partition then id. */
  rows(): AsyncGenerator<DrainedRecord[]>;
  drop(): Promise<void>;
  close(): Promise<void>;
}

/** Environment variable that carries a PostgreSQL URL (profile `sink.url` wins over it). */
export const PG_URL_ENV = "KAFKA_CHAOS_PG_URL";
/** How the run hands the full sink URL to its workers without writing it to disk. */
export const SINK_URL_ENV = "KAFKA_CHAOS_SINK_URL";

/**
 * The sink of a run with this profile, prefix and directory; undefined without one.
 * SQLite: `sink.db` in the run directory. PostgreSQL: tables named after the prefix.
 */
export function sinkConfig(
  settings: SinkSettings,
  prefix: string,
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): SinkConfig | undefined {
  const mode: SinkMode = settings.mode;
  if (settings.type === "sqlite") {
    const location = path.join(dir, "sink.db");
    return { type: "sqlite", mode, location, table: "sink", offsetsTable: "sink_offsets" };
  }
  if (settings.type === "postgres") {
    const base = tableBase(prefix);
    const location = settings.url ?? env[PG_URL_ENV] ?? LOCAL_POSTGRES_URL;
    return {
      type: "postgres",
      mode,
      location,
      table: `${base}_sink`,
      offsetsTable: `${base}_offsets`,
    };
  }
  return undefined;
}

/** A PostgreSQL identifier from the prefix: lower case, [a-z0-9_], room for a suffix in 63. */
export function tableBase(prefix: string): string {
  const safe = prefix.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return (/^[a-z_]/.test(safe) ? safe : `kc_${safe}`).slice(0, 55);
}

/** The config as written to disk: a PostgreSQL URL without its password. */
export function redacted(config: SinkConfig): SinkConfig {
  if (config.type !== "postgres") return config;
  try {
    const url = new URL(config.location);
    if (url.password) url.password = "***";
    return { ...config, location: url.toString() };
  } catch {
    return { ...config, location: "(unparsable URL)" };
  }
}

/** host:port of the sink for error messages, or the SQLite file. */
export function sinkHost(config: Pick<SinkConfig, "type" | "location">): string {
  if (config.type === "sqlite") return config.location;
  try {
    const url = new URL(config.location);
    return `${url.hostname || "localhost"}:${url.port || "5432"}`;
  } catch {
    return "postgres";
  }
}

/** Connects to the sink (PostgreSQL: fails with an InfrastructureError naming the host). */
export async function openSink(config: SinkConfig): Promise<Sink> {
  if (config.type === "sqlite") {
    const { SqliteSink } = await import("./sqlite.js").catch((err: unknown) => {
      // better-sqlite3 is an optional, native dependency: its build may have been skipped.
      throw new InfrastructureError(
        "sqlite",
        `the SQLite driver better-sqlite3 is not available (${(err as Error).message.split("\n")[0]}); run \`npm install better-sqlite3\``,
      );
    });
    return new SqliteSink(config);
  }
  const { PostgresSink } = await import("./postgres.js");
  return PostgresSink.connect(config);
}
