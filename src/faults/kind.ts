/**
 * A fault kind: one module holding everything about one type of fault — its params and
 * defaults, which keys place it, whether it fits a profile, and how it starts and heals through
 * the narrow ports of ports.ts. The spec parser, the schedule and the nemesis never switch on
 * fault types; they ask the kind.
 */
import type { Fault } from "./fault.js";
import type {
  BrokerAction,
  BrokerControl,
  ProxyControl,
  TargetLookup,
  WorkerControl,
  AppControl,
} from "./ports.js";

export type Family = "network" | "process" | "broker";

/** Where the schedule put one fault (see schedule.ts). */
export interface Placed {
  repetition: number;
  label: string;
  start: { messages: number } | { ms: number };
}

/** A crash a worker carries out itself (the processor pool's CrashPlan). */
export interface WorkerPlan {
  slot: number;
  incarnation: number;
  point: string;
  /** messages this incarnation processed before it kills itself */
  after: number;
  restartDelayMs?: number;
  label: string;
}

/** How a param's value is read and written. */
export type ParamKind = "duration" | "rate" | "count" | "slot" | "point";

/** What the nemesis hands a fault when it starts it. */
export interface Ports {
  proxies?: ProxyControl;
  workers?: WorkerControl;
  apps?: AppControl;
  brokers?: BrokerControl;
  targets: TargetLookup;
  /** Seeded, for `target=random`. */
  random: () => number;
  /** Nodes an active broker fault holds now (set by the nemesis). */
  heldBrokers?: () => number[];
}

/**
 * One fault about to act, its target resolved. The nemesis counts it active from before `apply`
 * until `heal` has returned, so the watchdog never sees a change no active fault explains.
 */
export interface Action {
  /** What the history names as the target, e.g. "leader (broker-1,broker-2)" or "worker 0". */
  target: string;
  /** A broker fault: the node it holds while active (so `target=random` picks another). */
  node?: number;
  /** For the watchdog: the proxies a network fault changes and the toxic it adds there. */
  onProxies?: { toxic: string; proxies: string[] };
  apply(): Promise<void>;
  heal(): Promise<void>;
}

/** The parts of a profile a kind checks a fault against. */
export interface ProfileView {
  processor: { enabled: boolean; workers: number; commit: string };
  sink: { type: string };
  /** the user's own program, in place of the built-in processor */
  app?: { instances: number; listeners?: unknown[] };
}

/** A problem of one fault in the context of the profile: the fault's key and what is wrong. */
export interface FaultProblem {
  key: string;
  problem: string;
}

/** What a run must have before a fault of this kind can act (checked before anything is made). */
export type Need = "proxies" | "workers" | "apps" | "brokers" | "replication-proxies";

export interface FaultKind<F extends Fault = Fault> {
  type: F["type"];
  family: Family;
  /** One line for help texts and the README. */
  summary: string;
  /** Placement and timing keys it takes, in the order formatFault writes them. */
  keys: readonly string[];
  /** Its params and how each is read; the order formatFault writes them. */
  params: { [K in keyof F["params"]]-?: ParamKind };
  /** Params left out take these values; a param missing here stays unset. */
  defaults: F["params"];
  /** An instant (a crash): no `for`, duration 0. */
  instant?: boolean;
  /** `for` when not given (DEFAULT_DURATION_MS otherwise). */
  defaultDuration?: number;
  /** `every` when not given. */
  defaultEvery(duration: number): number;
  /** Reads the placement keys (target, role) into the fault; absent for kinds without any. */
  placement?(values: Map<string, unknown>): Partial<F>;
  /** The placement keys a spec string shows (defaults left out). */
  formatPlacement?(fault: F): string[];
  /** Checks the parsed fault as a whole; throws FaultSpecError. */
  check?(fault: F): void;
  /** Started by the worker itself at a point of its loop, not by the nemesis. */
  selfTriggered?(fault: F): boolean;
  /**
   * A self-triggered fault's plan for the worker that carries it out: which incarnation of
   * which slot, at which point, after how many messages it processed itself.
   */
  workerPlan?(fault: F, placed: Placed, run: { messages: number; workers: number }): WorkerPlan;
  /** A start given as a param (a message count), overriding the drawn one. */
  startAfter?(fault: F): number | undefined;
  /** Whether it fits the profile; undefined when it does. */
  fits(fault: F, profile: ProfileView): FaultProblem | undefined;
  needs: readonly Need[];
  /** Broker faults: the BrokerControl actions that break and heal the broker, in that order. */
  brokerActions?: readonly [BrokerAction, BrokerAction];
  /** Resolves the target (who leads now, which proxies) and says how to apply and heal. */
  prepare(fault: F, ports: Ports, name: string): Promise<Action>;
}
