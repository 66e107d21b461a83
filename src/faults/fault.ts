/**
 * What a fault is once parsed: its type, placement, timing and the params of its kind.
 * Each kind (one module under network/, process/ or broker/) declares its own params type;
 * this file only joins them into one union.
 */
import type { KillBrokerFault } from "./broker/kill-broker.js";
import type { IsolateBrokerFault } from "./broker/isolate-broker.js";
import type { PauseBrokerFault } from "./broker/pause-broker.js";
import type { SlowReplicationFault } from "./broker/slow-replication.js";
import type { StopBrokerFault } from "./broker/stop-broker.js";
import type { BandwidthFault } from "./network/bandwidth.js";
import type { CutConnectionFault } from "./network/cut-connection.js";
import type { DropAcksFault } from "./network/drop-acks.js";
import type { LatencyFault } from "./network/latency.js";
import type { ResetPeerFault } from "./network/reset-peer.js";
import type { SlowCloseFault } from "./network/slow-close.js";
import type { CrashConsumerFault } from "./process/crash-consumer.js";
import type { CrashProducerFault } from "./process/crash-producer.js";
import type { CrashAppFault } from "./process/crash-app.js";
import type { PauseAppFault } from "./process/pause-app.js";
import type { StopAppFault } from "./process/stop-app.js";

/** When a fault starts: ms after the run started, or once N messages were sent. */
export type FaultAt = { ms: number } | { messages: number };

export interface FaultTiming {
  /** Unset: the seeded schedule picks the start. */
  at?: FaultAt;
  /**
   * ms the fault stays active (`for=` in the spec). An instant (crash-consumer) has 0;
   * crash-producer: how long the zombie stays frozen; kill-broker: how long the broker is down.
   */
  duration: number;
  repeat: number;
  /** ms between the starts of two repetitions. */
  every: number;
}

/**
 * Network faults: `all` brokers, the `leader`s of the input topic's partitions, the processor's
 * group and transaction `coordinator`s, or one broker by node id.
 */
export type FaultTarget = "all" | "leader" | "coordinator" | `broker-${number}`;

/** Which client role's proxies a network fault hits. */
export const FAULT_ROLES = ["producer", "processor", "app", "all"] as const;
export type FaultRole = (typeof FAULT_ROLES)[number];

/**
 * Broker faults hit one broker, chosen when the fault starts: the `leader` or a `follower` of
 * input partition 0, the active `controller`, the processor's transaction `coordinator`, a
 * `random` broker (seeded), or one broker by node id.
 */
export type BrokerTarget =
  "leader" | "follower" | "controller" | "coordinator" | "random" | `broker-${number}`;

export type NetworkFaultOf<T extends string, P> = FaultTiming & {
  type: T;
  target: FaultTarget;
  role: FaultRole;
  params: P;
};

export type ProcessFaultOf<T extends string, P> = FaultTiming & { type: T; params: P };

export type BrokerFaultOf<T extends string, P> = FaultTiming & {
  type: T;
  target: BrokerTarget;
  params: P;
};

export type NetworkFault =
  | CutConnectionFault
  | DropAcksFault
  | LatencyFault
  | BandwidthFault
  | ResetPeerFault
  | SlowCloseFault;

export type CrashFault =
  CrashConsumerFault | CrashProducerFault | CrashAppFault | StopAppFault | PauseAppFault;

export type BrokerFault =
  KillBrokerFault | StopBrokerFault | PauseBrokerFault | IsolateBrokerFault | SlowReplicationFault;

export type Fault = NetworkFault | CrashFault | BrokerFault;
export type FaultType = Fault["type"];
export type NetworkFaultType = NetworkFault["type"];
export type CrashFaultType = CrashFault["type"];
export type BrokerFaultType = BrokerFault["type"];

export const DEFAULT_DURATION_MS = 3000;
