import type { HistoryWriter } from "../history/writer.js";
import type { ProxySet } from "./proxies.js";
import type { ScheduledFault, ScheduleTime } from "./schedule.js";
import type { FaultTarget } from "./spec.js";
import { ACTIONS } from "./toxics/index.js";

export interface NemesisOptions {
  proxies: ProxySet;
  schedule: ScheduledFault[];
  /** Node id of the leader of the run's partition 0, for target "leader". */
  leader: number;
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
    const action = ACTIONS[f.fault.type];
    for (const nodeId of this.targets(f.fault.target)) {
      await action.start(this.opts.proxies.proxy(nodeId), f.fault, toxicName(f));
    }
    await this.record(f, "start");
  }

  private async stopFault(i: number, f: ScheduledFault): Promise<void> {
    this.states[i] = "done";
    const action = ACTIONS[f.fault.type];
    for (const nodeId of this.targets(f.fault.target)) {
      await action.stop(this.opts.proxies.proxy(nodeId), toxicName(f));
    }
    await this.record(f, "stop");
  }

  private targets(target: FaultTarget): number[] {
    if (target === "all") return this.opts.proxies.brokers.map((b) => b.nodeId);
    if (target === "leader") return [this.opts.leader];
    return [Number(target.slice("broker-".length))];
  }

  private async record(f: ScheduledFault, phase: "start" | "stop"): Promise<void> {
    const target =
      f.fault.target === "leader" ? `leader (broker-${this.opts.leader})` : f.fault.target;
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
