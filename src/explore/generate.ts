/**
 * The generator: random fault schedules that fit the profile and what the cluster offers. Pure:
 * the same seed and scope give the same cases. Every kind is drawn through its own module's
 * description (keys, params, defaults, fits), so a new fault kind is explored with no change here.
 */
import type { Family, FaultKind, Need, ParamKind } from "../faults/kind.js";
import { FAULT_TYPES, kindOf } from "../faults/kinds.js";
import {
  CRASH_POINTS,
  DEFAULT_DURATION_MS,
  FAULT_ROLES,
  toFault,
  type Fault,
} from "../faults/spec.js";
import type { Profile } from "../profiles/schema.js";
import { baseCase, caseProblem, type Case } from "./case.js";

/** The four groups `--kinds` picks from: app faults are the process faults of the user's app. */
export const KIND_GROUPS = ["network", "process", "broker", "app"] as const;
export type KindGroup = (typeof KIND_GROUPS)[number];

/** What the exploration may break: the groups asked for and what the cluster offers. */
export interface Scope {
  groups: readonly KindGroup[];
  /** what the run will have (proxies always; brokers with ≥ 2 brokers and a way to break them) */
  available: ReadonlySet<Need>;
  /** the cluster's node ids, for `broker-N` targets */
  brokerIds: readonly number[];
  /** roughly how long the profile's workload sends, for faults placed by time */
  expectedMs: number;
}

export const MAX_FAULTS = 4;
/** Faults start between these fractions of the run. */
const EARLIEST = 0.1;
const LATEST = 0.7;
const NETWORK_TARGETS = ["all", "leader", "coordinator"] as const;
const BROKER_TARGETS = ["leader", "follower", "controller", "coordinator", "random"] as const;

export function groupOf(kind: FaultKind): KindGroup {
  if (kind.needs.includes("apps")) return "app";
  return kind.family satisfies Family;
}

/** The fault kinds the scope allows and that fit the profile in some form. */
export function kindsFor(profile: Profile, scope: Scope): FaultKind[] {
  return FAULT_TYPES.map(kindOf).filter(
    (kind) =>
      scope.groups.includes(groupOf(kind)) &&
      kind.needs.every((need) => scope.available.has(need)) &&
      (!kind.needs.includes("workers") || (profile.processor.enabled && !profile.app)) &&
      fitsSomehow(kind, profile),
  );
}

/** Whether some fault of the kind fits: its defaults, or one of its crash points. */
function fitsSomehow(kind: FaultKind, profile: Profile): boolean {
  const hasPoint = Object.values(kind.params as Record<string, ParamKind>).includes("point");
  const forms = hasPoint ? CRASH_POINTS.map((point) => ({ point })) : [{}];
  return forms.some((form) => {
    const fault = tryBuild({ type: kind.type, ...form });
    return (
      fault !== undefined && !caseProblem(profile, { ...baseCase(profile, 0), faults: [fault] })
    );
  });
}

/** A random case: 1–4 faults of the allowed kinds, each fitting the profile. */
export function drawCase(profile: Profile, scope: Scope, random: () => number): Case {
  const kinds = kindsFor(profile, scope);
  const base = baseCase(profile, Math.floor(random() * 2 ** 31));
  if (kinds.length === 0) return base;
  const count = 1 + Math.floor(random() * MAX_FAULTS);
  const faults: Fault[] = [];
  for (let i = 0; i < count; i += 1) {
    const previous = faults[faults.length - 1];
    const fault = drawFault(profile, scope, kinds, random, previous);
    if (fault) faults.push(fault);
  }
  return { ...base, faults };
}

/** One fault that fits, or undefined when 20 draws found none. */
function drawFault(
  profile: Profile,
  scope: Scope,
  kinds: FaultKind[],
  random: () => number,
  previous: Fault | undefined,
): Fault | undefined {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const kind = pick(kinds, random);
    const fault = tryBuild(entryOf(kind, profile, scope, random, previous));
    if (fault && !caseProblem(profile, { ...baseCase(profile, 0), faults: [fault] })) return fault;
  }
  return undefined;
}

function tryBuild(entry: Record<string, unknown>): Fault | undefined {
  try {
    return toFault(entry);
  } catch {
    return undefined;
  }
}

/** A profile entry `{ type, target, role, at, for, …params }` for the kind, drawn at random. */
function entryOf(
  kind: FaultKind,
  profile: Profile,
  scope: Scope,
  random: () => number,
  previous: Fault | undefined,
): Record<string, unknown> {
  const entry: Record<string, unknown> = { type: kind.type };
  if (kind.keys.includes("target")) entry.target = drawTarget(kind, scope, random);
  if (kind.keys.includes("role")) entry.role = pick(FAULT_ROLES, random);
  const duration = kind.instant ? 0 : drawDuration(kind, random);
  if (!kind.instant) entry.for = duration;
  const params = kind.params as Record<string, ParamKind>;
  for (const [key, paramKind] of Object.entries(params)) {
    const value = drawParam(kind, key, paramKind, profile, random);
    if (value !== undefined) entry[key] = value;
  }
  // A crash at a point of the worker's loop is placed by its own count (`after`), not by `at`.
  const placedBySelf = tryBuild(entry);
  if (placedBySelf && kind.selfTriggered?.(placedBySelf)) return entry;
  delete entry.after;
  entry.at = drawAt(profile, scope, random, previous);
  return entry;
}

function drawTarget(kind: FaultKind, scope: Scope, random: () => number): string {
  const named = scope.brokerIds.map((id) => `broker-${id}`);
  const words: readonly string[] = kind.family === "broker" ? BROKER_TARGETS : NETWORK_TARGETS;
  // A named broker is one choice among the words, not one per broker.
  return random() < 1 / (words.length + 1) && named.length > 0
    ? pick(named, random)
    : pick(words, random);
}

/** 30–150 % of the kind's default length, in whole 100 ms. */
function drawDuration(kind: FaultKind, random: () => number): number {
  const typical = kind.defaultDuration ?? DEFAULT_DURATION_MS;
  return Math.max(200, roundTo(typical * (0.3 + 1.2 * random()), 100));
}

function drawParam(
  kind: FaultKind,
  key: string,
  paramKind: ParamKind,
  profile: Profile,
  random: () => number,
): unknown {
  const typical = (kind.defaults as Record<string, unknown>)[key];
  switch (paramKind) {
    case "duration":
      if (typeof typical !== "number" || typical === 0) return random() < 0.5 ? undefined : 0;
      return roundTo(typical * (0.5 + 1.5 * random()), 10);
    case "rate":
      return Math.max(
        1,
        Math.round((typeof typical === "number" ? typical : 16) * (0.25 + 2 * random())),
      );
    case "count": {
      const share = profile.workload.messages / Math.max(1, profile.processor.workers);
      return Math.max(1, Math.floor(share * (EARLIEST + (LATEST - EARLIEST) * random())));
    }
    case "slot": {
      const slots = key === "instance" ? (profile.app?.instances ?? 1) : profile.processor.workers;
      return Math.floor(random() * slots);
    }
    case "point":
      return pick(pointsThatFit(kind, profile), random);
  }
}

/** The crash points the profile's commit mode and sink allow. */
function pointsThatFit(kind: FaultKind, profile: Profile): string[] {
  return CRASH_POINTS.filter((point) => {
    const fault = tryBuild({ type: kind.type, point });
    return (
      fault !== undefined && !caseProblem(profile, { ...baseCase(profile, 0), faults: [fault] })
    );
  });
}

/**
 * Half the faults start while the one before them is active (the overlaps nobody writes by
 * hand); the others anywhere between 10 % and 70 % of the run. By time or by messages sent.
 */
function drawAt(
  profile: Profile,
  scope: Scope,
  random: () => number,
  previous: Fault | undefined,
): string {
  const messages = profile.workload.messages;
  const msPerMessage = scope.expectedMs / Math.max(1, messages);
  const previousMs = previous ? startMs(previous, msPerMessage) : undefined;
  const overlap = previousMs !== undefined && random() < 0.5;
  const ms = overlap
    ? previousMs + random() * Math.max(previous!.duration, 500)
    : scope.expectedMs * (EARLIEST + (LATEST - EARLIEST) * random());
  if (random() < 0.5 && scope.expectedMs > 0) return `${roundTo(ms, 100)}ms`;
  return `${Math.max(1, Math.min(messages - 1, Math.round(ms / msPerMessage)))}msg`;
}

function startMs(fault: Fault, msPerMessage: number): number | undefined {
  if (!fault.at) return undefined;
  return "ms" in fault.at ? fault.at.ms : fault.at.messages * msPerMessage;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

function roundTo(value: number, step: number): number {
  return Math.round(value / step) * step;
}

/** Every case the generator would draw first, for `explore --dry-run` style listings and tests. */
export function drawCases(
  profile: Profile,
  scope: Scope,
  random: () => number,
  count: number,
): Case[] {
  return Array.from({ length: count }, () => drawCase(profile, scope, random));
}
