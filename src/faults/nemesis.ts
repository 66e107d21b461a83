import type { HistoryWriter } from "../history/writer.js";
import type { ProcessorPool } from "../workload/pool.js";
import type { ProxySet } from "./proxies.js";
import type { ScheduledFault, ScheduleTime } from "./schedule.js";
import type { Proxy as ToxiProxy } from "toxiproxy-node-client";
import { isNetworkFault, type Fault, type FaultTarget, type NetworkFault } from "./spec.js";
import { ACTIONS } from "./toxics/index.js";

/** Which client role's connections a network fault breaks; each role has its own proxies. */
export type Role = "producer" | "processor";

export interface NemesisOptions {
  proxies: Partial<Record<Role, ProxySet>>;
  schedule: ScheduledFault[];
  /** Leaders of the input topic's partitions, for target "leader". */
  leaders: number[];
  /** Group and transaction coordinators of the processor, for target "coordinator". */
  coordinators: number[];
  /** The processor's workers, for crash faults. */
  pool?: ProcessorPool;
  history: HistoryWriter;
  clock: () => number;
  /** Messages sent so far, for faults scheduled "after N messages". */
  sent: () => number;
  onError: (err: unknown) => void;
}

type State = "pending" | "active" | "done";

/**
 * Starts and heals the scheduled faults on the run's proxies, writing every start and stop
 * to the history. `heal()` stops whatever is still active; it is safe to call at any time.
 */
export class Nemesis {
  private readonly states: State[];
  /** First time (ms) the sent count reached N, for message-based schedule points. */
  private readonly reachedAt = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private busy: Promise<void> = Promise.resolve();

  constructor(private readonly opts: NemesisOptions) {
    this.states = opts.schedule.map(() => "pending");
  }

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.busy.then(() => this.tick()).catch(this.opts.onError);
    }, 20);
  }

  active(): string[] {
    return this.opts.schedule.filter((_, i) => this.states[i] === "active").map((f) => f.label);
  }

  /**
   * The network faults active now: the name of the toxic each one adds and the names of the
   * proxies it breaks. Read-only, for checking that Toxiproxy still shows what the schedule says.
   */
  activeOnProxies(): { label: string; toxic: string; proxies: string[] }[] {
    return this.opts.schedule.flatMap((f, i) => {
      if (this.states[i] !== "active" || !isNetworkFault(f.fault)) return [];
      try {
        const proxies = this.proxiesFor(f.fault).map((p) => p.name);
        return [{ label: f.label, toxic: toxicName(f), proxies }];
      } catch {
        return []; // the proxies are being removed: nothing left to compare
      }
    });
  }

  /** Faults that never started because the run ended first. */
  neverStarted(): string[] {
    return this.opts.schedule.filter((_, i) => this.states[i] === "pending").map((f) => f.label);
  }

  async heal(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.busy.catch(() => {});
    for (const [i, f] of this.opts.schedule.entries()) {
      if (this.states[i] === "active") await this.stopFault(i, f);
    }
  }

  private async tick(): Promise<void> {
    for (const [i, f] of this.opts.schedule.entries()) {
      if (this.states[i] === "pending" && this.reached(f.start)) await this.startFault(i, f);
      if (this.states[i] === "active" && this.reached(f.stop)) await this.stopFault(i, f);
    }
  }

  private reached(point: ScheduleTime): boolean {
    const now = this.opts.clock();
    if ("ms" in point) return now >= point.ms;
    if (this.opts.sent() < point.messages) return false;
    if (!this.reachedAt.has(point.messages)) this.reachedAt.set(point.messages, now);
    return now >= (this.reachedAt.get(point.messages) ?? now) + point.plusMs;
  }

  private async startFault(i: number, f: ScheduledFault): Promise<void> {
    this.states[i] = "active";
    const fault = f.fault;
    if (fault.type === "crash-consumer") this.opts.pool?.kill(fault.params.worker, "random");
    else if (fault.type === "crash-producer") this.opts.pool?.freeze(fault.params.worker);
    else {
      const action = ACTIONS[fault.type];
      for (const proxy of this.proxiesFor(fault)) await action.start(proxy, fault, toxicName(f));
    }
    await this.record(f, "start");
  }

  private async stopFault(i: number, f: ScheduledFault): Promise<void> {
    const fault = f.fault;
    // Active while being healed (the watchdog must not see a proxy still being re-enabled as
    // unexplained); done afterwards even when healing failed, so a heal goes on with the rest.
    try {
      if (fault.type === "crash-producer") this.opts.pool?.thaw(fault.params.worker);
      else if (fault.type !== "crash-consumer") {
        const action = ACTIONS[fault.type];
        for (const proxy of this.proxiesFor(fault)) await action.stop(proxy, toxicName(f));
      }
    } finally {
      this.states[i] = "done";
    }
    await this.record(f, "stop");
  }

  private proxiesFor(fault: NetworkFault): ToxiProxy[] {
    const roles: Role[] = fault.role === "all" ? ["producer", "processor"] : [fault.role];
    return roles.flatMap((role) => {
      const set = this.opts.proxies[role];
      return set ? this.nodes(fault.target, set).map((n) => set.proxy(n)) : [];
    });
  }

  private nodes(target: FaultTarget, set: ProxySet): number[] {
    if (target === "all") return set.brokers.map((b) => b.nodeId);
    if (target === "leader") return this.opts.leaders;
    if (target === "coordinator") {
      return this.opts.coordinators.length > 0
        ? this.opts.coordinators
        : set.brokers.map((b) => b.nodeId);
    }
    return [Number(target.slice("broker-".length))];
  }

  private describe(fault: Fault): string {
    if (fault.type === "crash-consumer" || fault.type === "crash-producer") {
      return `worker ${fault.params.worker}`;
    }
    const nodes = this.nodes(fault.target, Object.values(this.opts.proxies)[0] as ProxySet);
    const where =
      fault.target === "all"
        ? "all"
        : `${fault.target} (${nodes.map((n) => `broker-${n}`).join(",")})`;
    return fault.role === "producer" ? where : `${where} of ${fault.role}`;
  }

  private async record(f: ScheduledFault, phase: "start" | "stop"): Promise<void> {
    const target = this.describe(f.fault);
    this.opts.history.append({
      type: "fault",
      phase,
      fault: f.label,
      target,
      time: this.opts.clock(),
    });
    await this.opts.history.flush();
  }
}

function toxicName(f: ScheduledFault): string {
  return `kc-${f.label.replace(/[^a-z0-9.-]/gi, "-")}`;
}
