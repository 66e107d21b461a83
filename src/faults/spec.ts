/**
 * Fault specs: what to break, where, when and for how long. Pure parsing and formatting.
 *
 * CLI syntax: `TYPE[:key=value,key=value…]`, e.g. `drop-acks:target=leader,at=2s,for=3s,repeat=2`.
 * Profiles accept the same string, or an object `{ type, target, role, at, for, repeat, every, … }`.
 *
 * Two families:
 *  - network faults (Toxiproxy) break the connections of one client role (`role`) to some
 *    brokers (`target`) for `for`;
 *  - crash faults hit a processor worker: `crash-consumer` kills it (SIGKILL) at a point of its
 *    consume → process → commit loop, `crash-producer` freezes it (SIGSTOP) for `for` while a
 *    replacement with the same transactional id takes over (a zombie that must be fenced).
 */
import { UsageError } from "../errors.js";

export const NETWORK_FAULT_TYPES = [
  "cut-connection",
  "drop-acks",
  "latency",
  "bandwidth",
  "reset-peer",
  "slow-close",
] as const;
export type NetworkFaultType = (typeof NETWORK_FAULT_TYPES)[number];

export const CRASH_FAULT_TYPES = ["crash-consumer", "crash-producer"] as const;
export type CrashFaultType = (typeof CRASH_FAULT_TYPES)[number];

export const FAULT_TYPES = [...NETWORK_FAULT_TYPES, ...CRASH_FAULT_TYPES] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

/**
 * `all` brokers, the `leader`s of the input topic's partitions, the processor's group and
 * transaction `coordinator`s (resolved by the runner), or one broker by node id.
 */
export type FaultTarget = "all" | "leader" | "coordinator" | `broker-${number}`;

/** Which client role's proxies a network fault hits. */
export const FAULT_ROLES = ["producer", "processor", "all"] as const;
export type FaultRole = (typeof FAULT_ROLES)[number];

/**
 * Where in the processor's loop crash-consumer kills the worker:
 *  - after-commit-before-process: input offsets committed, chunk not yet processed (commit: before);
 *  - after-process-before-commit: output written, offsets not yet committed (commit: after | auto);
 *  - mid-transaction: inside an open transaction, before it commits (commit: transaction);
 *  - after-sink-write-before-commit: the sink's DB transaction committed, offsets not yet
 *    committed to Kafka (a sink, commit: after | auto);
 *  - mid-db-transaction: rows written inside the sink's open DB transaction, before its
 *    COMMIT (a sink);
 *  - random: whenever the schedule says (any commit mode).
 */
export const CRASH_POINTS = [
  "after-commit-before-process",
  "after-process-before-commit",
  "mid-transaction",
  "after-sink-write-before-commit",
  "mid-db-transaction",
  "random",
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

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
  "crash-consumer": {
    point: CrashPoint;
    /**
     * Deterministic points only: the worker incarnation crashes once it has processed this many
     * messages. Unset: drawn by the schedule (20–60% of the run's messages, divided by workers).
     */
    after?: number;
    /** worker slot, 0-based */
    worker: number;
    /** ms the crashed worker stays down; unset: processor.restartDelayMs */
    restart?: number;
  };
  "crash-producer": {
    /** worker slot, 0-based */
    worker: number;
  };
}

interface FaultTiming {
  /** Unset: the seeded schedule picks the start. */
  at?: FaultAt;
  /**
   * ms the fault stays active (`for=` in the spec). crash-consumer: always 0 (a crash is an
   * instant); crash-producer: how long the zombie stays frozen.
   */
  duration: number;
  repeat: number;
  /** ms between the starts of two repetitions. */
  every: number;
}

interface NetworkPlacement {
  target: FaultTarget;
  role: FaultRole;
}

export type NetworkFault = {
  [T in NetworkFaultType]: FaultTiming &
    NetworkPlacement & { type: T; params: FaultParamsByType[T] };
}[NetworkFaultType];

export type CrashFault = {
  [T in CrashFaultType]: FaultTiming & { type: T; params: FaultParamsByType[T] };
}[CrashFaultType];

export type Fault = NetworkFault | CrashFault;

export const DEFAULT_DURATION_MS = 3000;
/** Default gap between two repeated crash-consumer crashes (room for restart and rebalance). */
export const DEFAULT_CRASH_EVERY_MS = 10_000;

export function isNetworkFault(fault: Fault): fault is NetworkFault {
  return isNetworkType(fault.type);
}

export function isCrashFault(fault: Fault): fault is CrashFault {
  return !isNetworkType(fault.type);
}

function isNetworkType(type: FaultType): type is NetworkFaultType {
  return (NETWORK_FAULT_TYPES as readonly string[]).includes(type);
}

/** How a param's value is read and written. */
type ParamKind = "duration" | "rate" | "count" | "slot" | "point";

const PARAM_KINDS: { [T in FaultType]: Record<keyof FaultParamsByType[T], ParamKind> } = {
  "cut-connection": {},
  "drop-acks": {},
  latency: { latency: "duration", jitter: "duration" },
  bandwidth: { rate: "rate" },
  "reset-peer": { timeout: "duration" },
  "slow-close": { delay: "duration" },
  "crash-consumer": { point: "point", after: "count", worker: "slot", restart: "duration" },
  "crash-producer": { worker: "slot" },
};

/** Params left out of a spec take these values; a param missing here stays unset. */
const DEFAULT_PARAMS: { [T in FaultType]: FaultParamsByType[T] } = {
  "cut-connection": {},
  "drop-acks": {},
  latency: { latency: 500, jitter: 100 },
  bandwidth: { rate: 16 },
  "reset-peer": { timeout: 0 },
  "slow-close": { delay: 1000 },
  "crash-consumer": { point: "random", worker: 0 },
  "crash-producer": { worker: 0 },
};

const NETWORK_KEYS = ["target", "role", "at", "for", "repeat", "every"];
const COMMON_KEYS: { [T in FaultType]: string[] } = {
  "cut-connection": NETWORK_KEYS,
  "drop-acks": NETWORK_KEYS,
  latency: NETWORK_KEYS,
  bandwidth: NETWORK_KEYS,
  "reset-peer": NETWORK_KEYS,
  "slow-close": NETWORK_KEYS,
  "crash-consumer": ["at", "repeat", "every"],
  "crash-producer": ["at", "for", "repeat", "every"],
};

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

export function defaultTarget(type: NetworkFaultType): FaultTarget {
  return type === "drop-acks" ? "leader" : "all";
}

/** `every` when not given: twice the duration; for crash-consumer (duration 0) a fixed gap. */
export function defaultEvery(type: FaultType, duration: number): number {
  return type === "crash-consumer" ? DEFAULT_CRASH_EVERY_MS : 2 * duration;
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
  if (isNetworkFault(fault)) {
    if (fault.target !== defaultTarget(fault.type)) parts.push(`target=${fault.target}`);
    if (fault.role !== "producer") parts.push(`role=${fault.role}`);
  }
  if (fault.at) parts.push(`at=${formatAt(fault.at)}`);
  if (fault.type !== "crash-consumer" && fault.duration !== DEFAULT_DURATION_MS) {
    parts.push(`for=${formatDuration(fault.duration)}`);
  }
  if (fault.repeat !== 1) parts.push(`repeat=${fault.repeat}`);
  if (fault.every !== defaultEvery(fault.type, fault.duration)) {
    parts.push(`every=${formatDuration(fault.every)}`);
  }
  const kinds: Record<string, ParamKind> = PARAM_KINDS[fault.type];
  const defaults: Record<string, unknown> = DEFAULT_PARAMS[fault.type];
  const params: Record<string, unknown> = fault.params;
  for (const [key, kind] of Object.entries(kinds)) {
    const value = params[key];
    if (value !== undefined && value !== defaults[key]) {
      parts.push(`${key}=${formatParam(kind, value)}`);
    }
  }
  return parts.length === 0 ? fault.type : `${fault.type}:${parts.join(",")}`;
}

function formatAt(at: FaultAt): string {
  return "ms" in at ? formatDuration(at.ms) : `${at.messages}msg`;
}

function formatParam(kind: ParamKind, value: unknown): string {
  return kind === "duration" ? formatDuration(value as number) : String(value);
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
  const duration =
    type === "crash-consumer"
      ? 0
      : optional(values, "for", (v) => readDuration("for", v, 1), DEFAULT_DURATION_MS);
  const every = optional(
    values,
    "every",
    (v) => readDuration("every", v, 1),
    defaultEvery(type, duration),
  );
  if (every < duration) {
    throw new FaultSpecError("every", `must be at least for (${formatDuration(duration)})`);
  }
  const at = optional(values, "at", readAt, undefined);
  const params = readParams(type, values);
  if (type === "crash-consumer") checkCrashPlacement(params, at);
  const placement = isNetworkType(type)
    ? {
        target: optional(values, "target", readTarget, defaultTarget(type)),
        role: optional(values, "role", readRole, "producer"),
      }
    : {};
  return {
    type,
    ...placement,
    ...(at === undefined ? {} : { at }),
    duration,
    repeat: optional(values, "repeat", (v) => readWhole("repeat", v, 1), 1),
    every,
    params,
  } as Fault;
}

/**
 * A crash at a deterministic point is carried out by the worker itself once it has processed
 * `after` messages; a random crash is started by the nemesis at a time or sent-message count.
 */
function checkCrashPlacement(params: Record<string, unknown>, at: FaultAt | undefined): void {
  const point = params["point"];
  if (point === "random") {
    if (params["after"] !== undefined) {
      throw new FaultSpecError(
        "after",
        `only for a deterministic point (${CRASH_POINTS.filter((p) => p !== "random").join(", ")}); place a random crash with at=`,
      );
    }
  } else if (at !== undefined) {
    throw new FaultSpecError(
      "at",
      `a crash at point ${String(point)} is placed with after=N (messages the worker processed), not at=`,
    );
  }
}

function readType(value: unknown): FaultType {
  const type = FAULT_TYPES.find((known) => known === value);
  if (type) return type;
  const problem = value === undefined ? "missing fault type" : `unknown fault type ${show(value)}`;
  throw new FaultSpecError("type", `${problem}; allowed: ${FAULT_TYPES.join(", ")}`);
}

function collect(type: FaultType, entries: [string, unknown][]): Map<string, unknown> {
  const allowed = [...COMMON_KEYS[type], ...Object.keys(PARAM_KINDS[type])];
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

/** The type's params: given values, else defaults; a param without default stays absent. */
function readParams(type: FaultType, values: Map<string, unknown>): Record<string, unknown> {
  const defaults: Record<string, unknown> = DEFAULT_PARAMS[type];
  const params: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(PARAM_KINDS[type] as Record<string, ParamKind>)) {
    const value = optional(values, key, (v) => readParam(kind, key, v), defaults[key]);
    if (value !== undefined) params[key] = value;
  }
  return params;
}

function readParam(kind: ParamKind, key: string, value: unknown): number | CrashPoint {
  switch (kind) {
    case "duration":
      return readDuration(key, value, 0);
    case "rate":
      return readWhole(key, value, 1);
    case "count":
      return readCount(key, value);
    case "slot":
      return readWhole(key, value, 0);
    case "point":
      return readPoint(value);
  }
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

/** A message count: `3000`, `3000msg` or `3000msgs`, at least 1. */
function readCount(key: string, value: unknown): number {
  const match = typeof value === "string" ? /^(\d+)\s*(?:msgs?)?$/.exec(value.trim()) : null;
  const number = match ? Number(match[1]) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < 1) {
    throw new FaultSpecError(key, `expected a message count such as 3000msg, got ${show(value)}`);
  }
  return number;
}

function readPoint(value: unknown): CrashPoint {
  const point = CRASH_POINTS.find((known) => known === value);
  if (point) return point;
  throw new FaultSpecError(
    "point",
    `expected one of ${CRASH_POINTS.join(", ")}, got ${show(value)}`,
  );
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
  if (value === "all" || value === "leader" || value === "coordinator") return value;
  if (typeof value === "string" && /^broker-\d+$/.test(value)) return value as FaultTarget;
  throw new FaultSpecError(
    "target",
    `expected all, leader, coordinator or broker-<nodeId>, got ${show(value)}`,
  );
}

function readRole(value: unknown): FaultRole {
  const role = FAULT_ROLES.find((known) => known === value);
  if (role) return role;
  throw new FaultSpecError("role", `expected one of ${FAULT_ROLES.join(", ")}, got ${show(value)}`);
}

function show(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}
