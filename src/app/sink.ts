import pg from "pg";
import { UsageError } from "../errors.js";
import type { DrainedRecord } from "../history/events.js";
import type { AppSettings } from "../profiles/schema.js";
import { parseIdentityText } from "../identity/identity.js";
import type { Sink, SinkConfig } from "../sinks/index.js";
import { connectPostgres } from "../sinks/postgres.js";

/**
 * The sink table of a user's app: made by the profile's setup statements, read back by its
 * query, dropped at the end. {table} in either is the run's own table name.
 */
export class AppSink implements Sink {
  private constructor(
    private readonly config: SinkConfig,
    private readonly settings: NonNullable<AppSettings["sink"]>,
    private readonly client: pg.Client,
  ) {}

  static async connect(
    config: SinkConfig,
    settings: NonNullable<AppSettings["sink"]>,
  ): Promise<AppSink> {
    return new AppSink(config, settings, await connectPostgres(config));
  }

  async create(): Promise<void> {
    for (const [i, sql] of this.settings.setup.entries()) {
      try {
        await this.client.query(this.sql(sql));
      } catch (err) {
        const why = (err as Error).message;
        // "already exists" is the caller's to explain (a prefix used before)
        if (/already exists/i.test(why)) throw err;
        throw new UsageError(`app.sink.setup[${i}]: ${why}`);
      }
    }
  }

  async write(): Promise<never> {
    throw new Error("the app writes its own rows");
  }

  async storedOffsets(): Promise<Map<number, number>> {
    return new Map();
  }

  /** The query's rows as records, sorted by identity (row order carries no meaning here). */
  async *rows(): AsyncGenerator<DrainedRecord[]> {
    let result: pg.QueryResult;
    try {
      result = await this.client.query(this.sql(this.settings.query));
    } catch (err) {
      throw new UsageError(`app.sink.query: ${(err as Error).message}`);
    }
    const ids = result.rows.map(identityOfRow);
    ids.sort((a, b) => a.producer - b.producer || a.seq - b.seq);
    yield ids.map((id, offset) => ({ partition: 0, offset, ...id }));
  }

  async drop(): Promise<void> {
    await this.client.query(`DROP TABLE IF EXISTS ${this.config.table}`);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }

  private sql(text: string): string {
    return text.replaceAll("{table}", this.config.table);
  }
}

/** A row's identity: its producer and seq columns, else its id column ("<producer>:<seq>"). */
function identityOfRow(row: Record<string, unknown>): { producer: number; seq: number } {
  if ("producer" in row && "seq" in row) {
    const producer = Number(row.producer);
    const seq = Number(row.seq);
    if (Number.isInteger(producer) && Number.isInteger(seq)) return { producer, seq };
    return { producer: -1, seq: -1 };
  }
  const id = "id" in row ? row.id : Object.values(row)[0];
  return parseIdentityText(String(id ?? ""));
}
