/** What the processor reads from an input record and writes for it: output records, sink rows. */
import { HEADER_PRODUCER, HEADER_RUN, HEADER_SEQ, identityOf } from "../identity/headers.js";
import { SINK_URL_ENV, type SinkConfig, type SinkRow } from "../sinks/index.js";
import type { InputRecord, OutputRecord, Written } from "./engine.js";

type Chunk = InputRecord[];

export function identityPair(m: InputRecord): [number, number] {
  const { producer, seq } = identityOf(m);
  return [producer, seq];
}

/** The sink's location, from the environment for postgres (never written to disk). */
export function sinkLocated(sink: SinkConfig): SinkConfig {
  const url = sink.type === "postgres" ? process.env[SINK_URL_ENV] : undefined;
  return url ? { ...sink, location: url } : sink;
}

export function sinkRow(partition: number, m: InputRecord, worker: string): SinkRow {
  const { producer, seq } = identityOf(m);
  return { producer, seq, partition, offset: Number(m.offset), worker, payload: m.value };
}

/** The output record keeps the input's identity; it goes to the same partition number. */
export function outputMessages(partition: number, chunk: Chunk, worker: string): OutputRecord[] {
  return chunk.map((m) => ({
    key: m.key,
    value: m.value,
    partition,
    headers: {
      [HEADER_RUN]: String(m.headers?.[HEADER_RUN] ?? ""),
      [HEADER_PRODUCER]: String(m.headers?.[HEADER_PRODUCER] ?? ""),
      [HEADER_SEQ]: String(m.headers?.[HEADER_SEQ] ?? ""),
      "kc-worker": worker,
    },
  }));
}

export function outputRanges(
  meta: Written[],
  count: number,
): Record<string, [number, number]> | undefined {
  const first = meta[0];
  if (!first || first.baseOffset === undefined) return undefined;
  return { [first.partition]: [Number(first.baseOffset), count] };
}

/** The offset after a chunk's last record: where a consumer that handled it goes on. */
export function nextOffset(chunk: Chunk): string {
  return String(Number(chunk[chunk.length - 1]!.offset) + 1);
}
