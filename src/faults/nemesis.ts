/**
 * The nemesis: starts and heals the scheduled faults, writing every start and stop to the
 * history. It only schedules and dispatches — what a fault does is its kind's business (kinds.ts),
 * acting through the ports it is handed (ports.ts).
 */
import type { HistoryWriter } from "../history/writer.js";
import type { Action, Ports } from "./kind.js";
import { kindOf } from "./kinds.js";
import type { ScheduledFault, ScheduleTime } from "./schedule.js";

export interface NemesisOptions {
  ports: Ports;
  schedule: ScheduledFault[];
  history: Pick<HistoryWriter, "append" | "flush">;
  clock: () => number;
  /** Messages sent so far, for faults scheduled "after N messages". */
  sent: () => number;
  onError: (err: unknown) => void;
  /** ms between two looks at the schedule */
  tickMs?: number;
  /**
   * starts every toxic's name, e.g. `kc-<runId>`: `cleanup` knows a toxic a dead run left on a
   * proxy it did not make (the stack's replication proxies) by it. Default `kc`.
   */
  toxicPrefix?: string;
}

type State = "pending" | "active" | "done";

/** `heal()` stops whatever is still active; it is safe to call at any time. */
export class Nemesis {
  private readonly states: State[];
  private readonly actions: (Action | undefined)[];
  /** First time (ms) the sent count reached N, for message-based schedule points. */
  private readonly reachedAt = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  /** The start or heal each fault is in the middle of: one at a time per fault. */
  private readonly busy = new Map<number, Promise<void>>();

  constructor(private readonly opts: NemesisOptions) {
    this.states = opts.schedule.map(() => "pending");
    this.actions = opts.schedule.map(() => undefined);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.tick().catch(this.opts.onError);
    }, this.opts.tickMs ?? 20);
  }

  active(): string[] {
    return this.opts.schedule.filter((_, i) => this.states[i] === "active").map((f) => f.label);
  }

  /**
   * The active faults that change the run's proxies: the toxic each adds and the proxies it
   * breaks. Read-only, for checking that Toxiproxy still shows what the schedule says.
   */
  activeOnProxies(): { label: string; toxic: string; proxies: string[] }[] {
    return this.opts.schedule.flatMap((f, i) => {
      const on = this.actions[i]?.onProxies;
      return this.states[i] === "active" && on ? [{ label: f.label, ...on }] : [];
    });
  }

  /** Faults that never started because the run ended first. */
  neverStarted(): string[] {
    return this.opts.schedule.filter((_, i) => this.states[i] === "pending").map((f) => f.label);
  }

  async heal(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.busy.values());
    for (const [i, f] of this.opts.schedule.entries()) {
      if (this.states[i] === "active") await this.stopFault(i, f);
    }
  }

  /**
   * One look at the schedule: start what is due, stop what has run its course. Each fault moves
   * on its own, so a slow heal (a broker that takes its time to come back) delays no other
   * fault. Settles once the moves begun here are done; rejects with the first that failed.
   */
  async tick(): Promise<void> {
    const moves: Promise<void>[] = [];
    for (const [i, f] of this.opts.schedule.entries()) {
      if (this.busy.has(i)) continue;
      const state = this.states[i];
      if (state === "pending" && this.reached(f.start)) {
        // An instant (a crash) stops as soon as it started.
        const start = this.startFault(i, f).then(async () => {
          if (this.reached(f.stop)) await this.stopFault(i, f);
        });
        moves.push(this.move(i, start));
      } else if (state === "active" && this.reached(f.stop)) {
        moves.push(this.move(i, this.stopFault(i, f)));
      }
    }
    await Promise.all(moves);
  }

  private move(i: number, work: Promise<void>): Promise<void> {
    const done = work.finally(() => this.busy.delete(i));
    this.busy.set(
      i,
      done.catch(() => {}),
    );
    return done;
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
    const ports = { ...this.opts.ports, heldBrokers: () => this.heldBrokers() };
    const action = await kindOf(f.fault.type).prepare(
      f.fault,
      ports,
      toxicName(this.opts.toxicPrefix ?? "kc", f),
    );
    this.actions[i] = action;
    await action.apply();
    await this.record(f, "start", action.target);
  }

  /** Brokers that broker faults active now hold. */
  private heldBrokers(): number[] {
    return this.actions.flatMap((a, i) =>
      this.states[i] === "active" && a?.node !== undefined ? [a.node] : [],
    );
  }

  private async stopFault(i: number, f: ScheduledFault): Promise<void> {
    const action = this.actions[i];
    // Active while being healed (the watchdog must not see a proxy still being re-enabled as
    // unexplained); done afterwards even when healing failed, so a heal goes on with the rest.
    try {
      await action?.heal();
    } finally {
      this.states[i] = "done";
    }
    await this.record(f, "stop", action?.target ?? "unresolved");
  }

  private async record(f: ScheduledFault, phase: "start" | "stop", target: string): Promise<void> {
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

function toxicName(prefix: string, f: ScheduledFault): string {
  return `${prefix}-${f.label.replace(/[^a-z0-9.-]/gi, "-")}`;
}
