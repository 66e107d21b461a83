/**
 * Fault specs: what to break, where, when and for how long. Pure parsing and formatting; what
 * each type takes and means lives in its kind's module (see kinds.ts).
 *
 * CLI syntax: `TYPE[:key=value,key=value…]`, e.g. `drop-acks:target=leader,at=2s,for=3s,repeat=2`.
 * Profiles accept the same string, or an object `{ type, target, role, at, for, repeat, every, … }`.
 */
import { DEFAULT_DURATION_MS, type Fault, type FaultAt, type FaultType } from "./fault.js";
import type { FaultKind, ParamKind } from "./kind.js";
import { FAULT_TYPES, kindOf } from "./kinds.js";
import {
  FaultSpecError,
  durationMs,
  formatDuration,
  optional,
  readChoice,
  readCount,
  readDuration,
  readWhole,
  show,
} from "./params.js";
import { CRASH_POINTS, type CrashPoint } from "./process/crash-consumer.js";

export * from "./fault.js";
export { FAULT_TYPES } from "./kinds.js";
export { CRASH_POINTS, type CrashPoint } from "./process/crash-consumer.js";
export { durationMs, FaultSpecError, formatDuration, parseDuration } from "./params.js";

export function isNetworkFault(fault: Fault): fault is Extract<Fault, { role: unknown }> {
  return kindOf(fault.type).family === "network";
}

export function isCrashFault(fault: Fault): fault is Extract<Fault, { type: `crash-${string}` }> {
  return kindOf(fault.type).family === "process";
}

export function isBrokerFault(fault: Fault): boolean {
  return kindOf(fault.type).family === "broker";
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
  const kind = kindOf(fault.type);
  const parts: string[] = [...(kind.formatPlacement?.(fault) ?? [])];
  if (fault.at) parts.push(`at=${formatAt(fault.at)}`);
  if (!kind.instant && fault.duration !== defaultDuration(kind)) {
    parts.push(`for=${formatDuration(fault.duration)}`);
  }
  if (fault.repeat !== 1) parts.push(`repeat=${fault.repeat}`);
  if (fault.every !== kind.defaultEvery(fault.duration)) {
    parts.push(`every=${formatDuration(fault.every)}`);
  }
  const defaults: Record<string, unknown> = kind.defaults;
  const params: Record<string, unknown> = fault.params;
  for (const [key, paramKind] of Object.entries(paramKinds(kind))) {
    const value = params[key];
    if (value !== undefined && value !== defaults[key]) {
      parts.push(
        `${key}=${paramKind === "duration" ? formatDuration(value as number) : String(value)}`,
      );
    }
  }
  return parts.length === 0 ? fault.type : `${fault.type}:${parts.join(",")}`;
}

function defaultDuration(kind: FaultKind): number {
  return kind.defaultDuration ?? DEFAULT_DURATION_MS;
}

function paramKinds(kind: FaultKind): Record<string, ParamKind> {
  return kind.params as Record<string, ParamKind>;
}

function formatAt(at: FaultAt): string {
  return "ms" in at ? formatDuration(at.ms) : `${at.messages}msg`;
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
  const kind = kindOf(type);
  const values = collect(kind, entries);
  const duration = kind.instant
    ? 0
    : optional(values, "for", (v) => readDuration("for", v, 1), defaultDuration(kind));
  const every = optional(
    values,
    "every",
    (v) => readDuration("every", v, 1),
    kind.defaultEvery(duration),
  );
  if (every < duration) {
    throw new FaultSpecError("every", `must be at least for (${formatDuration(duration)})`);
  }
  const at = optional(values, "at", readAt, undefined);
  const fault = {
    type,
    ...(kind.placement?.(values) ?? {}),
    ...(at === undefined ? {} : { at }),
    duration,
    repeat: optional(values, "repeat", (v) => readWhole("repeat", v, 1), 1),
    every,
    params: readParams(kind, values),
  } as Fault;
  kind.check?.(fault);
  return fault;
}

function readType(value: unknown): FaultType {
  const type = FAULT_TYPES.find((known) => known === value);
  if (type) return type;
  const problem = value === undefined ? "missing fault type" : `unknown fault type ${show(value)}`;
  throw new FaultSpecError("type", `${problem}; allowed: ${FAULT_TYPES.join(", ")}`);
}

function collect(kind: FaultKind, entries: [string, unknown][]): Map<string, unknown> {
  const allowed = [...kind.keys, ...Object.keys(kind.params)];
  const values = new Map<string, unknown>();
  for (const [key, value] of entries) {
    if (!allowed.includes(key)) {
      throw new FaultSpecError(key, `unknown key for ${kind.type}; allowed: ${allowed.join(", ")}`);
    }
    if (values.has(key)) throw new FaultSpecError(key, "given twice");
    values.set(key, value);
  }
  return values;
}

/** The kind's params: given values, else defaults; a param without default stays absent. */
function readParams(kind: FaultKind, values: Map<string, unknown>): Record<string, unknown> {
  const defaults: Record<string, unknown> = kind.defaults;
  const params: Record<string, unknown> = {};
  for (const [key, paramKind] of Object.entries(paramKinds(kind))) {
    const value = optional(values, key, (v) => readParam(paramKind, key, v), defaults[key]);
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
      return readChoice(key, value, CRASH_POINTS);
  }
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
