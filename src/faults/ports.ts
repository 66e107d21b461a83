/**
 * The narrow ports a fault acts through. A fault kind never reaches Toxiproxy, a worker process
 * or a broker by itself: the run hands the nemesis these ports, and the unit tests hand it fakes.
 */

/** Client roles whose connections go through the run's own proxies, one proxy per broker. */
export type ClientRole = "producer" | "processor" | "app";

/** One proxy: what a network fault changes. */
export interface ProxyPort {
  readonly name: string;
  /** Disable (false) or re-enable (true): disabling closes open connections. */
  setEnabled(enabled: boolean): Promise<void>;
  addToxic(toxic: {
    name: string;
    type: string;
    stream: "upstream" | "downstream";
    attributes: object;
  }): Promise<void>;
  /** Removes the toxic if it is there. */
  removeToxic(name: string): Promise<void>;
}

/** Toxiproxy, as the faults see it. */
export interface ProxyControl {
  /** The roles that have proxies in this run. */
  roles(): ClientRole[];
  /** Node ids of the brokers the role's proxies front. */
  brokers(role: ClientRole): number[];
  /** The role's proxy in front of broker `nodeId`. */
  proxy(role: ClientRole, nodeId: number): ProxyPort;
  /**
   * The proxy that carries replication traffic *to* broker `nodeId` (followers fetching from
   * it); undefined when the cluster's replication does not go through Toxiproxy.
   */
  replicationProxy?(nodeId: number): ProxyPort | undefined;
}

/** The processor's worker processes (src/processor/pool.ts). */
export interface WorkerControl {
  /** SIGKILL the slot's current process; the pool restarts it after its restart delay. */
  kill(slot: number, point?: string): void;
  /** SIGSTOP the slot's process and start its replacement (a zombie that must be fenced). */
  freeze(slot: number): void;
  /** SIGCONT the slot's frozen zombie. */
  thaw(slot: number): void;
}

/** The instances of the user's own program (profile section `app`). */
export interface AppControl {
  /** SIGKILL the instance; it is started again after `restartMs` (default: app.restartDelay). */
  kill(instance: number, restartMs?: number): void;
  /** SIGTERM (a graceful stop), then started again after `restartMs`. */
  stop(instance: number, restartMs?: number): Promise<void>;
  /** SIGSTOP the instance. */
  pause(instance: number): void;
  /** SIGCONT the instance. */
  resume(instance: number): void;
}

/** What a BrokerControl can do to one broker (also the names of the user's command templates). */
export const BROKER_ACTIONS = [
  "kill",
  "stop",
  "start",
  "pause",
  "resume",
  "isolate",
  "heal",
] as const;
export type BrokerAction = (typeof BROKER_ACTIONS)[number];

/** The brokers' processes and replication links: the local stack, or user command templates. */
export interface BrokerControl {
  /** Node ids of the cluster's brokers. */
  nodes(): number[];
  /** SIGKILL the broker (its data stays on disk). */
  kill(nodeId: number): Promise<void>;
  /** Clean shutdown (SIGTERM), waiting until it has exited. */
  stop(nodeId: number): Promise<void>;
  /** Start a killed or stopped broker on its data, waiting until it answers. */
  start(nodeId: number): Promise<void>;
  /** SIGSTOP */
  pause(nodeId: number): Promise<void>;
  /** SIGCONT */
  resume(nodeId: number): Promise<void>;
  /** Cut its replication traffic to and from the other brokers; clients still reach it. */
  isolate(nodeId: number): Promise<void>;
  /** Undo isolate. */
  heal(nodeId: number): Promise<void>;
  /** The active KRaft controller, where this control can know it. */
  controller?(): Promise<number>;
}

/** Which brokers play which part right now: looked up when a fault starts, not before. */
export interface TargetLookup {
  /** The distinct leaders of the input topic's partitions (network target `leader`). */
  leaders(): Promise<number[]>;
  /** The leader of input partition 0 (broker target `leader`). */
  partitionLeader(): Promise<number>;
  /** Followers (replicas that do not lead) of input partition 0, in-sync ones first. */
  followers(): Promise<number[]>;
  /** The processor's group and transaction coordinators (empty without a processor). */
  coordinators(): Promise<number[]>;
  /** The processor's transaction coordinator, else its group coordinator. */
  transactionCoordinator(): Promise<number | undefined>;
  /** The active controller. */
  controller(): Promise<number>;
}
