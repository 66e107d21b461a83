import type { SinkConfig, SinkRow } from "./index.js";

/**
 * The SQL both sinks share: SQLite (3.24+) and PostgreSQL agree on ON CONFLICT, `excluded`
 * and row values; only the column types and the placeholders differ.
 */
export type Dialect = "sqlite" | "postgres";

const TYPES = {
  sqlite: { id: "INTEGER PRIMARY KEY AUTOINCREMENT", big: "INTEGER", bytes: "BLOB" },
  postgres: { id: "BIGSERIAL PRIMARY KEY", big: "BIGINT", bytes: "BYTEA" },
} as const;

/** Columns of a row, in insert order. */
const COLUMNS = [
  "producer",
  "seq",
  "input_partition",
  "input_offset",
  "version",
  "worker",
  "payload",
];

/** Identity-keyed modes: one row per (producer, seq), enforced by the database. */
export function keyed(config: SinkConfig): boolean {
  return config.mode === "idempotent" || config.mode === "upsert-versioned";
}

export function createSql(dialect: Dialect, config: SinkConfig): string[] {
  const t = TYPES[dialect];
  const unique = keyed(config) ? ",\n  UNIQUE (producer, seq)" : "";
  return [
    `CREATE TABLE ${quote(config.table)} (
  id ${t.id},
  producer ${t.big} NOT NULL,
  seq ${t.big} NOT NULL,
  input_partition INTEGER NOT NULL,
  input_offset ${t.big} NOT NULL,
  version ${t.big} NOT NULL,
  worker TEXT NOT NULL,
  payload ${t.bytes}${unique}
)`,
    `CREATE TABLE ${quote(config.offsetsTable)} (
  input_partition INTEGER PRIMARY KEY,
  next_offset ${t.big} NOT NULL
)`,
  ];
}

export function dropSql(config: SinkConfig): string[] {
  return [config.table, config.offsetsTable].map(dropTableSql);
}

export function dropTableSql(table: string): string {
  return `DROP TABLE IF EXISTS ${quote(table)}`;
}

/** The chunk's insert: plain and atomic append; idempotent ignores, upsert-versioned updates. */
export function insertSql(dialect: Dialect, config: SinkConfig, count: number): string {
  const width = COLUMNS.length;
  const values = Array.from({ length: count }, (_, row) => {
    const marks = COLUMNS.map((_, col) => placeholder(dialect, row * width + col + 1));
    return `(${marks.join(", ")})`;
  });
  const insert = `INSERT INTO ${quote(config.table)} (${COLUMNS.join(", ")}) VALUES ${values.join(", ")}`;
  if (config.mode === "idempotent") return `${insert} ON CONFLICT (producer, seq) DO NOTHING`;
  if (config.mode !== "upsert-versioned") return insert;
  const set = COLUMNS.filter((c) => c !== "producer" && c !== "seq")
    .map((c) => `${c} = excluded.${c}`)
    .join(", ");
  return `${insert} ON CONFLICT (producer, seq) DO UPDATE SET ${set} WHERE ${quote(config.table)}.version < excluded.version`;
}

/** The parameters of insertSql, row after row. version = input offset. */
export function insertParams(rows: SinkRow[]): unknown[] {
  return rows.flatMap((r) => [
    r.producer,
    r.seq,
    r.partition,
    r.offset,
    r.offset,
    r.worker,
    r.payload,
  ]);
}

/** A partition's offset row, so that there is a row to lock before the first write. */
export function ensureOffsetSql(config: SinkConfig): string {
  return `INSERT INTO ${quote(config.offsetsTable)} (input_partition, next_offset) VALUES ($1, 0) ON CONFLICT (input_partition) DO NOTHING`;
}

export function readOffsetSql(dialect: Dialect, config: SinkConfig): string {
  const lock = dialect === "postgres" ? " FOR UPDATE" : "";
  return `SELECT next_offset FROM ${quote(config.offsetsTable)} WHERE input_partition = ${placeholder(dialect, 1)}${lock}`;
}

export function writeOffsetSql(dialect: Dialect, config: SinkConfig): string {
  const [p, o] = [placeholder(dialect, 1), placeholder(dialect, 2)];
  return `INSERT INTO ${quote(config.offsetsTable)} (input_partition, next_offset) VALUES (${p}, ${o}) ON CONFLICT (input_partition) DO UPDATE SET next_offset = excluded.next_offset`;
}

export function allOffsetsSql(config: SinkConfig): string {
  return `SELECT input_partition, next_offset FROM ${quote(config.offsetsTable)}`;
}

/** One page of rows after (partition, id), in drain order. */
export function rowsPageSql(dialect: Dialect, config: SinkConfig, limit: number): string {
  const [p, id] = [placeholder(dialect, 1), placeholder(dialect, 2)];
  return `SELECT input_partition, id, producer, seq FROM ${quote(config.table)} WHERE (input_partition, id) > (${p}, ${id}) ORDER BY input_partition, id LIMIT ${limit}`;
}

/** The rows not stored yet: at or past the partition's stored next offset. */
export function fresh(rows: SinkRow[], stored: number | undefined): SinkRow[] {
  return stored === undefined ? rows : rows.filter((r) => r.offset >= stored);
}

/** The partition's next offset once these rows are stored. */
export function nextOffsetOf(rows: SinkRow[]): number {
  return Math.max(...rows.map((r) => r.offset)) + 1;
}

function placeholder(dialect: Dialect, n: number): string {
  return dialect === "postgres" ? `$${n}` : "?";
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
