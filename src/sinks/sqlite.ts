import Database from "better-sqlite3";
import type { DrainedRecord } from "../history/events.js";
import type { Sink, SinkConfig, SinkRow } from "./index.js";
import {
  allOffsetsSql,
  createSql,
  dropSql,
  fresh,
  insertParams,
  insertSql,
  nextOffsetOf,
  readOffsetSql,
  rowsPageSql,
  writeOffsetSql,
} from "./sql.js";

const PAGE = 10_000;

/**
 * The SQLite sink: one file in the run directory, shared by every worker process (WAL mode,
 * writers wait for each other). A worker killed inside a transaction leaves nothing: SQLite
 * rolls it back when the file is next opened.
 */
export class SqliteSink implements Sink {
  private readonly db: Database.Database;

  constructor(private readonly config: SinkConfig) {
    this.db = new Database(config.location);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 30000");
    // Survives a killed process (the faults here), not a power cut: enough for this test.
    this.db.pragma("synchronous = NORMAL");
  }

  create(): Promise<void> {
    return settle(() => {
      this.db.transaction(() => {
        for (const sql of createSql("sqlite", this.config)) this.db.exec(sql);
      })();
    });
  }

  write(partition: number, rows: SinkRow[], inTransaction: () => void): Promise<SinkRow[]> {
    const atomic = this.config.mode === "atomic";
    const run = this.db.transaction(() => {
      const stored = atomic ? this.storedOffset(partition) : undefined;
      const written = fresh(rows, stored);
      if (written.length > 0) {
        this.db
          .prepare(insertSql("sqlite", this.config, written.length))
          .run(insertParams(written));
        if (atomic) {
          this.db
            .prepare(writeOffsetSql("sqlite", this.config))
            .run(partition, nextOffsetOf(written));
        }
      }
      inTransaction();
      return written;
    });
    // IMMEDIATE: take the write lock before reading the stored offset.
    return settle(() => run.immediate());
  }

  storedOffsets(): Promise<Map<number, number>> {
    return settle(() => {
      const rows = this.db.prepare(allOffsetsSql(this.config)).all() as {
        input_partition: number;
        next_offset: number;
      }[];
      return new Map(rows.map((r) => [r.input_partition, r.next_offset]));
    });
  }

  async *rows(): AsyncGenerator<DrainedRecord[]> {
    const page = this.db.prepare(rowsPageSql("sqlite", this.config, PAGE));
    let after: [number, number] = [-1, -1];
    for (;;) {
      const got = page.all(...after) as {
        input_partition: number;
        id: number;
        producer: number;
        seq: number;
      }[];
      if (got.length === 0) return;
      yield got.map((r) => ({
        partition: r.input_partition,
        offset: r.id,
        producer: r.producer,
        seq: r.seq,
      }));
      const last = got[got.length - 1]!;
      after = [last.input_partition, last.id];
    }
  }

  drop(): Promise<void> {
    return settle(() => {
      for (const sql of dropSql(this.config)) this.db.exec(sql);
    });
  }

  close(): Promise<void> {
    return settle(() => {
      this.db.close();
    });
  }

  private storedOffset(partition: number): number | undefined {
    const row = this.db.prepare(readOffsetSql("sqlite", this.config)).get(partition) as
      { next_offset: number } | undefined;
    return row?.next_offset;
  }
}

/** better-sqlite3 is synchronous: its result or error as a settled promise, as Sink promises. */
function settle<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
