/**
 * Fault specs: what to break, where, when and for how long. Pure parsing and formatting.
 *
 * CLI syntax: `TYPE[:key=value,key=value…]`, e.g. `drop-acks:target=leader,at=2s,for=3s,repeat=2`.
 * Profiles accept the same string, or an object `{ type, target, at, for, repeat, every, … }`.
 */
import { UsageError } from "../errors.js";

export const FAULT_TYPES = [
  "cut-connection",
  "drop-acks",
  "latency",
  "bandwidth",
  "reset-peer",
  "slow-close",
] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

/** `all` brokers, the `leader` of the run's partitions, or one broker by node id. */
export type FaultTarget = "all" | "leader" | `broker-${number}`;

/** When a fault starts: ms after the run started, or once N messages were sent. */
export type FaultAt = { ms: number } | { messages: number };

/** Durations in ms; `rate` in KB/s. */
export interface FaultParamsByType {
  "cut-connection": Record<string, never>;
  "drop-acks": Record<string, never>;
  latency: { latency: number; jitter: number };
  bandwidth: { rate: number };
  "reset-peer": { timeout: number };
  "slow-close": { delay: number };
}

interface FaultCommon {
  target: FaultTarget;
  /** Unset: the seeded schedule picks the start. */
  at?: FaultAt;
  /** ms the fault stays active (`for=` in the spec). */
  duration: number;
  repeat: number;
  /** ms between the starts of two repetitions. */
  every: number;
}

export type Fault = {
  [T in FaultType]: FaultCommon & { type: T; params: FaultParamsByType[T] };
}[FaultType];

export const DEFAULT_DURATION_MS = 3000;

const DEFAULT_PARAMS: { [T in FaultType]: FaultParamsByType[T] } = {
  "cut-connection": {},
  "drop-acks": {},
  latency: { latency: 500, jitter: 100 },
  bandwidth: { rate: 16 },
  "reset-peer": { timeout: 0 },
  "slow-close": { delay: 1000 },
};

const COMMON_KEYS = ["target", "at", "for", "repeat", "every"];

const DURATION_HINT = "a duration such as 500ms, 3s or 1m";

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

export function defaultTarget(type: FaultType): FaultTarget {
  return type === "drop-acks" ? "leader" : "all";
}

/** `250ms`, `3s`, `1.5m` or a bare number of ms → ms; undefined when not a duration. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? Math.round(value) : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) return undefined;
  const unit = match[2] === "m" ? 60_000 : match[2] === "s" ? 1000 : 1;
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

/** Parses a CLI spec such as `cut-connection:at=5000msg,for=2s`. Throws FaultSpecError. */
export function parseFault(spec: string): Fault {
  try {
    return faultFromString(spec);
  } catch (error) {
    if (error instanceof FaultSpecError) throw new FaultSpecError(error.key, error.problem, spec);
    throw error;
  }
}

/** Parses a profile entry: a spec string or an object. Throws FaultSpecError (no spec prefix). */
export function toFault(value: unknown): Fault {
  if (typeof value === "string") return faultFromString(value);
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const { type, ...rest } = value as Record<string, unknown>;
    return buildFault(type, Object.entries(rest));
  }
  throw new FaultSpecError(
    "",
    'expected a spec such as "drop-acks:for=3s" or an object with a type',
  );
}

/** The canonical spec string: keys in a fixed order, defaults left out. parseFault reads it back. */
export function formatFault(fault: Fault): string {
  const parts: string[] = [];
  if (fault.target !== defaultTarget(fault.type)) parts.push(`target=${fault.target}`);
  if (fault.at) parts.push(`at=${formatAt(fault.at)}`);
  if (fault.duration !== DEFAULT_DURATION_MS) parts.push(`for=${formatDuration(fault.duration)}`);
  if (fault.repeat !== 1) parts.push(`repeat=${fault.repeat}`);
  if (fault.every !== 2 * fault.duration) parts.push(`every=${formatDuration(fault.every)}`);
  const defaults: Record<string, number> = DEFAULT_PARAMS[fault.type];
  for (const [key, value] of Object.entries(fault.params as Record<string, number>)) {
    if (value !== defaults[key]) parts.push(`${key}=${formatParam(key, value)}`);
  }
  return parts.length === 0 ? fault.type : `${fault.type}:${parts.join(",")}`;
}

function formatAt(at: FaultAt): string {
  return "ms" in at ? formatDuration(at.ms) : `${at.messages}msg`;
}

function formatParam(key: string, value: number): string {
  return key === "rate" ? String(value) : formatDuration(value);
}

function faultFromString(spec: string): Fault {
  const text = spec.trim();
  const colon = text.indexOf(":");
  if (colon < 0) return buildFault(text, []);
  const pairs = text.slice(colon + 1).split(",");
  return buildFault(text.slice(0, colon), pairs.map(splitPair));
}

function splitPair(pair: string): [string, string] {
  const equals = pair.indexOf("=");
  const key = (equals < 0 ? pair : pair.slice(0, equals)).trim();
  const value = equals < 0 ? "" : pair.slice(equals + 1).trim();
  if (key === "" || value === "")
    throw new FaultSpecError(key, `expected key=value, got "${pair}"`);
  return [key, value];
}

function buildFault(typeValue: unknown, entries: [string, unknown][]): Fault {
  const type = readType(typeValue);
  const values = collect(type, entries);
  const duration = optional(values, "for", (v) => readDuration("for", v, 1), DEFAULT_DURATION_MS);
  const every = optional(values, "every", (v) => readDuration("every", v, 1), 2 * duration);
  if (every < duration) {
    throw new FaultSpecError("every", `must be at least for (${formatDuration(duration)})`);
  }
  const at = optional(values, "at", readAt, undefined);
  return {
    type,
    target: optional(values, "target", readTarget, defaultTarget(type)),
    ...(at === undefined ? {} : { at }),
    duration,
    repeat: optional(values, "repeat", (v) => readWhole("repeat", v, 1), 1),
    every,
    params: readParams(type, values),
  } as Fault;
}

function readType(value: unknown): FaultType {
  const type = FAULT_TYPES.find((known) => known === value);
  if (type) return type;
  const problem = value === undefined ? "missing fault type" : `unknown fault type ${show(value)}`;
  throw new FaultSpecError("type", `${problem}; allowed: ${FAULT_TYPES.join(", ")}`);
}

function collect(type: FaultType, entries: [string, unknown][]): Map<string, unknown> {
  const allowed = [...COMMON_KEYS, ...Object.keys(DEFAULT_PARAMS[type])];
  const values = new Map<string, unknown>();
  for (const [key, value] of entries) {
    if (!allowed.includes(key)) {
      throw new FaultSpecError(key, `unknown key for ${type}; allowed: ${allowed.join(", ")}`);
    }
    if (values.has(key)) throw new FaultSpecError(key, "given twice");
    values.set(key, value);
  }
  return values;
}

function optional<T, D>(
  values: Map<string, unknown>,
  key: string,
  read: (value: unknown) => T,
  fallback: D,
): T | D {
  const value = values.get(key);
  return value === undefined ? fallback : read(value);
}

function readParams(type: FaultType, values: Map<string, unknown>): Record<string, number> {
  const params: Record<string, number> = {};
  for (const [key, fallback] of Object.entries(DEFAULT_PARAMS[type] as Record<string, number>)) {
    const read =
      key === "rate"
        ? (v: unknown) => readWhole(key, v, 1)
        : (v: unknown) => readDuration(key, v, 0);
    params[key] = optional(values, key, read, fallback);
  }
  return params;
}

function readDuration(key: string, value: unknown, min: number): number {
  const ms = durationMs(value);
  if (ms === undefined)
    throw new FaultSpecError(key, `expected ${DURATION_HINT}, got ${show(value)}`);
  if (ms < min) throw new FaultSpecError(key, `must be at least ${formatDuration(min)}`);
  return ms;
}

function readWhole(key: string, value: unknown, min: number): number {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < min) {
    throw new FaultSpecError(key, `expected a whole number >= ${min}, got ${show(value)}`);
  }
  return number;
}

function readAt(value: unknown): FaultAt {
  const match = typeof value === "string" ? /^(\d+)\s*msgs?$/.exec(value.trim()) : null;
  if (match) return { messages: Number(match[1]) };
  const ms = durationMs(value);
  if (ms !== undefined && ms >= 0) return { ms };
  throw new FaultSpecError(
    "at",
    `expected a time such as 2s or a count such as 5000msg, got ${show(value)}`,
  );
}

function readTarget(value: unknown): FaultTarget {
  if (value === "all" || value === "leader") return value;
  if (typeof value === "string" && /^broker-\d+$/.test(value)) return value as FaultTarget;
  throw new FaultSpecError("target", `expected all, leader or broker-<nodeId>, got ${show(value)}`);
}

function show(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}
