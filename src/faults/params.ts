/** Reading and writing the values of fault specs: durations, counts, whole numbers. Pure. */
import { UsageError } from "../errors.js";

const DURATION_HINT = "a duration such as 500ms, 3s, 1m or 1h";
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A bad fault spec. `key` names the offending key (`type` for the fault type, "" for the whole). */
export class FaultSpecError extends UsageError {
  readonly key: string;
  readonly problem: string;

  constructor(key: string, problem: string, spec?: string) {
    const where = [spec === undefined ? "" : `fault "${spec}"`, key];
    super([...where.filter((part) => part !== ""), problem].join(": "));
    this.key = key;
    this.problem = problem;
  }
}

/** `250ms`, `3s`, `1.5m` or a bare number of ms → ms; undefined when not a duration. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? Math.round(value) : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) return undefined;
  const unit = UNIT_MS[match[2] ?? "ms"] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

/** Like durationMs, for a CLI flag: throws a UsageError naming the bad value. */
export function parseDuration(value: string | number, flag = "duration"): number {
  const ms = durationMs(value);
  if (ms === undefined || ms < 0) {
    throw new UsageError(`${flag}: expected ${DURATION_HINT}, got "${value}"`);
  }
  return ms;
}

/** The shortest exact form: 60000 → `1m`, 3000 → `3s`, 1500 → `1500ms`. */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms > 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function readDuration(key: string, value: unknown, min: number): number {
  const ms = durationMs(value);
  if (ms === undefined)
    throw new FaultSpecError(key, `expected ${DURATION_HINT}, got ${show(value)}`);
  if (ms < min) throw new FaultSpecError(key, `must be at least ${formatDuration(min)}`);
  return ms;
}

export function readWhole(key: string, value: unknown, min: number): number {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < min) {
    throw new FaultSpecError(key, `expected a whole number >= ${min}, got ${show(value)}`);
  }
  return number;
}

/** A message count: `3000`, `3000msg` or `3000msgs`, at least 1. */
export function readCount(key: string, value: unknown): number {
  const match = typeof value === "string" ? /^(\d+)\s*(?:msgs?)?$/.exec(value.trim()) : null;
  const number = match ? Number(match[1]) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < 1) {
    throw new FaultSpecError(key, `expected a message count such as 3000msg, got ${show(value)}`);
  }
  return number;
}

/** One of a fixed list of words. */
export function readChoice<T extends string>(
  key: string,
  value: unknown,
  choices: readonly T[],
): T {
  const found = choices.find((known) => known === value);
  if (found) return found;
  throw new FaultSpecError(key, `expected one of ${choices.join(", ")}, got ${show(value)}`);
}

/** The value of `key`, read, or the fallback when the spec leaves it out. */
export function optional<T, D>(
  values: Map<string, unknown>,
  key: string,
  read: (value: unknown) => T,
  fallback: D,
): T | D {
  const value = values.get(key);
  return value === undefined ? fallback : read(value);
}

export function show(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}
