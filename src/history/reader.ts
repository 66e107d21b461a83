import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { DrainedRecord, HistoryEvent } from "./events.js";

/** Turns one parsed line into a value; throw to reject the line. */
export type LineDecoder<T> = (value: unknown) => T;

interface BadLine {
  lineNo: number;
  reason: string;
}

/**
 * Streams a JSON-lines file one line at a time. Blank lines are skipped. A malformed last
 * line with no newline after it is what a crash mid-write leaves, so it is skipped
 * silently; any other malformed line throws an error naming the file and line number.
 */
export async function* readJsonLines<T>(
  path: string,
  decode: LineDecoder<T> = (value) => value as T,
): AsyncGenerator<T> {
  const endsWithNewline = await lastByteIsNewline(path);
  const input = createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let bad: BadLine | undefined;
  try {
    for await (const line of lines) {
      lineNo++;
      if (bad) throw malformed(path, bad);
      if (line.trim() === "") continue;
      const parsed = parseLine(line, decode);
      if (parsed.ok) yield parsed.value;
      else bad = { lineNo, reason: parsed.reason };
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (bad && endsWithNewline) throw malformed(path, bad);
}

export function readHistory(path: string): AsyncGenerator<HistoryEvent> {
  return readJsonLines(path, decodeEvent);
}

export function readDrain(path: string): AsyncGenerator<DrainedRecord> {
  return readJsonLines(path, decodeDrained);
}

/** One drained record as a compact JSON line (without the newline). */
export function encodeDrained(r: DrainedRecord): string {
  return JSON.stringify({ p: r.partition, o: r.offset, pr: r.producer, s: r.seq });
}

export function decodeDrained(value: unknown): DrainedRecord {
  const line = asObject(value);
  return {
    partition: numberField(line, "p"),
    offset: numberField(line, "o"),
    producer: numberField(line, "pr"),
    seq: numberField(line, "s"),
  };
}

function decodeEvent(value: unknown): HistoryEvent {
  const event = asObject(value);
  if (typeof event.type !== "string") throw new Error("no string field 'type'");
  return event as unknown as HistoryEvent;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseLine<T>(line: string, decode: LineDecoder<T>): Parsed<T> {
  try {
    return { ok: true, value: decode(JSON.parse(line)) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function malformed(path: string, bad: BadLine): Error {
  return new Error(`${path}:${bad.lineNo}: malformed line: ${bad.reason}`);
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("not a JSON object");
  }
  return value as Record<string, unknown>;
}

function numberField(line: Record<string, unknown>, name: string): number {
  const value = line[name];
  if (typeof value !== "number") throw new Error(`field '${name}' is not a number`);
  return value;
}

async function lastByteIsNewline(path: string): Promise<boolean> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    if (size === 0) return true;
    const { buffer } = await file.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] === 0x0a;
  } finally {
    await file.close();
  }
}
