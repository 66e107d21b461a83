import { open } from "node:fs/promises";
import type { DrainedRecord, HistoryEvent, TailSeen } from "./events.js";

/** Turns one parsed line into a value; throw to reject the line. */
export type LineDecoder<T> = (value: unknown) => T;

/**
 * Decodes one line straight from its bytes [start, end) (no newline), without JSON.parse;
 * returns undefined to leave the line to JSON.parse and the LineDecoder.
 */
export type FastLineDecoder<T> = (bytes: Buffer, start: number, end: number) => T | undefined;

interface BadLine {
  lineNo: number;
  reason: string;
}

const CHUNK_SIZE = 1 << 20;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Streams a JSON-lines file in batches of decoded lines (one batch per chunk read).
 * Lines end with "\n" or "\r\n"; blank lines are skipped. A malformed last line with no
 * newline after it is what a crash mid-write leaves, so it is skipped silently; any other
 * malformed line throws an error naming the file and line number, once the lines before
 * it have been yielded.
 */
export async function* readJsonLineBatches<T>(
  path: string,
  decode: LineDecoder<T> = (value) => value as T,
  fast?: FastLineDecoder<T>,
): AsyncGenerator<T[]> {
  const file = await open(path, "r");
  let buffer: Buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  let held = 0; // bytes of an unfinished line, at the start of buffer
  let lineNo = 0;
  let bad: BadLine | undefined;
  let batch: T[] = [];
  const take = (bytes: Buffer, start: number, end: number): void => {
    lineNo++;
    if (bad) return;
    if (end > start && bytes[end - 1] === CARRIAGE_RETURN) end--;
    const value = fast?.(bytes, start, end);
    if (value !== undefined) {
      batch.push(value);
      return;
    }
    const line = bytes.toString("utf8", start, end);
    if (line.trim() === "") return;
    try {
      batch.push(decode(JSON.parse(line)));
    } catch (error) {
      bad = { lineNo, reason: error instanceof Error ? error.message : String(error) };
    }
  };
  try {
    for (;;) {
      if (held === buffer.length) buffer = grown(buffer);
      const { bytesRead } = await file.read(buffer, held, buffer.length - held, null);
      const view = buffer.subarray(0, held + bytesRead);
      if (bytesRead === 0) {
        // The last line has no newline: if it is malformed, a crash cut it; skip it.
        const terminatedBad = bad;
        if (view.length > 0) take(view, 0, view.length);
        if (batch.length > 0) yield batch;
        if (terminatedBad) throw malformed(path, terminatedBad);
        return;
      }
      let start = 0;
      for (let nl = view.indexOf(NEWLINE, held); nl !== -1; nl = view.indexOf(NEWLINE, start)) {
        if (bad) break;
        take(view, start, nl);
        start = nl + 1;
      }
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
      // A line after a malformed one: the malformed one was not a crash's last line.
      if (bad && start < view.length) throw malformed(path, bad);
      held = view.length - start;
      view.copy(buffer, 0, start);
    }
  } finally {
    await file.close();
  }
}

/** As readJsonLineBatches, one line at a time. */
export async function* readJsonLines<T>(
  path: string,
  decode: LineDecoder<T> = (value) => value as T,
  fast?: FastLineDecoder<T>,
): AsyncGenerator<T> {
  for await (const batch of readJsonLineBatches(path, decode, fast)) {
    for (const value of batch) yield value; // faster than yield* here
  }
}

export function readHistory(path: string): AsyncGenerator<HistoryEvent> {
  return readJsonLines(path, decodeEvent);
}

export function readDrain(path: string): AsyncGenerator<DrainedRecord> {
  return readJsonLines(path, decodeDrained, decodeDrainedBytes);
}

/** The drain in batches: several times faster than record by record for large drains. */
export function readDrainBatches(path: string): AsyncGenerator<DrainedRecord[]> {
  return readJsonLineBatches(path, decodeDrained, decodeDrainedBytes);
}

/**
 * tail.jsonl: what a reader following the input topic saw, line by line. Like the history, a
 * torn last line (crash) is skipped; lines of another type than `seen` are skipped too.
 */
export async function* readTail(path: string): AsyncGenerator<TailSeen> {
  for await (const batch of readJsonLineBatches(path, decodeTail)) {
    for (const line of batch) if (line !== null) yield line;
  }
}

export function decodeTail(value: unknown): TailSeen | null {
  const line = asObject(value);
  if (line.type !== "seen") return null;
  const records = line.records;
  if (!Array.isArray(records)) throw new Error("seen line without a 'records' array");
  for (const r of records as unknown[]) {
    if (!Array.isArray(r) || r.length !== 3 || !r.every((n) => typeof n === "number")) {
      throw new Error("a seen record is not an [offset, producer, seq] triple of numbers");
    }
  }
  return {
    type: "seen",
    time: numberField(line, "time"),
    partition: numberField(line, "partition"),
    records: records as TailSeen["records"],
  };
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

const KEY_P = Buffer.from('{"p":');
const KEY_O = Buffer.from(',"o":');
const KEY_PR = Buffer.from(',"pr":');
const KEY_S = Buffer.from(',"s":');
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const ZERO = 0x30;
/** At most 15 digits: always below 2^53, so exact. */
const MAX_DIGITS = 15;

/** The integer read by the last readInteger call. */
let integer = 0;

/**
 * The exact line encodeDrained writes for integer fields, e.g. {"p":1,"o":2,"pr":0,"s":3},
 * decoded from its bytes; undefined for anything else (other spacing, key order,
 * fractions, exponents, huge numbers), which JSON.parse then handles.
 */
export function decodeDrainedBytes(
  bytes: Buffer,
  start: number,
  end: number,
): DrainedRecord | undefined {
  let i = expect(bytes, start, end, KEY_P);
  if ((i = readInteger(bytes, i, end)) < 0) return undefined;
  const partition = integer;
  if ((i = readInteger(bytes, expect(bytes, i, end, KEY_O), end)) < 0) return undefined;
  const offset = integer;
  if ((i = readInteger(bytes, expect(bytes, i, end, KEY_PR), end)) < 0) return undefined;
  const producer = integer;
  if ((i = readInteger(bytes, expect(bytes, i, end, KEY_S), end)) < 0) return undefined;
  const seq = integer;
  if (i !== end - 1 || bytes[i] !== CLOSE_BRACE) return undefined;
  return { partition, offset, producer, seq };
}

/** The index after `literal` at i, or -1. */
function expect(bytes: Buffer, i: number, end: number, literal: Buffer): number {
  if (i < 0 || end - i < literal.length) return -1;
  for (let k = 0; k < literal.length; k++) if (bytes[i + k] !== literal[k]) return -1;
  return i + literal.length;
}

/** Reads a JSON integer at i into `integer`; the index after it, or -1. */
function readInteger(bytes: Buffer, i: number, end: number): number {
  if (i < 0) return -1;
  const negative = bytes[i] === MINUS;
  if (negative) i++;
  const first = i;
  let value = 0;
  for (; i < end; i++) {
    const digit = bytes[i]! - ZERO;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  const digits = i - first;
  if (digits === 0 || digits > MAX_DIGITS) return -1;
  if (digits > 1 && bytes[first] === ZERO) return -1; // not JSON
  integer = negative ? -value : value;
  return i;
}

function decodeEvent(value: unknown): HistoryEvent {
  const event = asObject(value);
  if (typeof event.type !== "string") throw new Error("no string field 'type'");
  if (event.type === "processed" && !Array.isArray(event.items)) {
    throw new Error("processed event without an 'items' array");
  }
  return event as unknown as HistoryEvent;
}

function malformed(path: string, bad: BadLine): Error {
  return new Error(`${path}:${bad.lineNo}: malformed line: ${bad.reason}`);
}

function grown(buffer: Buffer): Buffer {
  const bigger = Buffer.allocUnsafe(buffer.length * 2);
  buffer.copy(bigger);
  return bigger;
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
