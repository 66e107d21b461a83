import pg from "pg";
import { InfrastructureError } from "../errors.js";
import type { DrainedRecord } from "../history/events.js";
import { sinkHost, type Sink, type SinkConfig, type SinkRow } from "./index.js";
import {
  allOffsetsSql,
  createSql,
  dropSql,
  dropTableSql,
  ensureOffsetSql,
  fresh,
  insertParams,
  insertSql,
  nextOffsetOf,
  readOffsetSql,
  rowsPageSql,
  writeOffsetSql,
} from "./sql.js";

const PAGE = 10_000;
const CONNECT_TIMEOUT_MS = 5000;

/** A connection to the sink's server, or an InfrastructureError naming the host (exit 3). */
export async function connectPostgres(config: Pick<SinkConfig, "location">): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: config.location,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An error on an idle connection (server gone) must not crash the process unhandled.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new InfrastructureError(
      sinkHost({ type: "postgres", location: config.location }),
      `PostgreSQL sink unreachable: ${describe(err)}`,
      {
        cause: err,
      },
    );
  }
  return client;
}

/**
 * The PostgreSQL sink: the run's own tables, one connection per worker. A worker killed
 * inside a transaction leaves nothing: the server rolls back when the connection drops.
 */
export class PostgresSink implements Sink {
  private constructor(
    private readonly config: SinkConfig,
    private readonly client: pg.Client,
  ) {}

  /** Connects, or fails with one line naming the host (exit 3). */
  static async connect(config: SinkConfig): Promise<PostgresSink> {
    return new PostgresSink(config, await connectPostgres(config));
  }

  async create(): Promise<void> {
    await this.transaction(async () => {
      for (const sql of createSql("postgres", this.config)) await this.client.query(sql);
    });
  }

  async write(partition: number, rows: SinkRow[], inTransaction: () => void): Promise<SinkRow[]> {
    const atomic = this.config.mode === "atomic";
    return this.transaction(async () => {
      const stored = atomic ? await this.lockOffset(partition) : undefined;
      const written = fresh(rows, stored);
      if (written.length > 0) {
        await this.client.query(
          insertSql("postgres", this.config, written.length),
          insertParams(written),
        );
        if (atomic) {
          await this.client.query(writeOffsetSql("postgres", this.config), [
            partition,
            nextOffsetOf(written),
          ]);
        }
      }
      inTransaction();
      return written;
    });
  }

  async storedOffsets(): Promise<Map<number, number>> {
    const res = await this.client.query<{ input_partition: number; next_offset: string }>(
      allOffsetsSql(this.config),
    );
    return new Map(res.rows.map((r) => [r.input_partition, Number(r.next_offset)]));
  }

  async *rows(): AsyncGenerator<DrainedRecord[]> {
    const sql = rowsPageSql("postgres", this.config, PAGE);
    let after: [number, string] = [-1, "-1"];
    for (;;) {
      const { rows } = await this.client.query<{
        input_partition: number;
        id: string;
        producer: string;
        seq: string;
      }>(sql, after);
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        partition: r.input_partition,
        offset: Number(r.id),
        producer: Number(r.producer),
        seq: Number(r.seq),
      }));
      const last = rows[rows.length - 1]!;
      after = [last.input_partition, last.id];
    }
  }

  async drop(): Promise<void> {
    for (const sql of dropSql(this.config)) await this.client.query(sql);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }

  /**
   * atomic: the partition's stored offset, its row locked until COMMIT, so two workers that
   * both think they own the partition (a rebalance, a zombie) write it one after the other.
   */
  private async lockOffset(partition: number): Promise<number | undefined> {
    await this.client.query(ensureOffsetSql(this.config), [partition]);
    const res = await this.client.query<{ next_offset: string }>(
      readOffsetSql("postgres", this.config),
      [partition],
    );
    const row = res.rows[0];
    return row ? Number(row.next_offset) : undefined;
  }

  private async transaction<T>(body: () => Promise<T>): Promise<T> {
    await this.client.query("BEGIN");
    try {
      const result = await body();
      await this.client.query("COMMIT");
      return result;
    } catch (err) {
      await this.client.query("ROLLBACK").catch(() => {});
      throw err;
    }
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const text = e.message?.trim() || e.code || String(err);
  return text.replace(/\s+/g, " ");
}

/** A run's table (`kc_<date>_<time>_<rand>_sink|_offsets`) and the run name it came from. */
const RUN_TABLE = /^kc_(\d{8})_(\d{6})_([a-z0-9]{4})_(sink|offsets)$/;

/**
 * The tables runs with the default prefix made in the server at `url`, each with the name the
 * run gave it (`kc-<date>-<time>-<rand>-sink`), for `cleanup` to match like topics.
 */
export async function runTables(url: string): Promise<{ table: string; name: string }[]> {
  const client = await connectPostgres({ location: url });
  try {
    const res = await client.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kc\\_%'",
    );
    return res.rows.flatMap(({ tablename }) => {
      const m = RUN_TABLE.exec(tablename);
      return m ? [{ table: tablename, name: `kc-${m[1]}-${m[2]}-${m[3]}-${m[4]}` }] : [];
    });
  } finally {
    await client.end().catch(() => {});
  }
}

export async function dropTables(url: string, tables: string[]): Promise<void> {
  const client = await connectPostgres({ location: url });
  try {
    for (const t of tables) await client.query(dropTableSql(t));
  } finally {
    await client.end().catch(() => {});
  }
}
