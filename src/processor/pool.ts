import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { appendWorkerEvent, type HistoryWriter } from "../history/writer.js";
import type { WorkerConfig, WorkerMessage } from "./processor.js";

const WORKER_MAIN = fileURLToPath(new URL("./worker-main.js", import.meta.url));

/** A deterministic crash: incarnation `incarnation` of worker `slot` kills itself at `point`. */
export interface CrashPlan {
  slot: number;
  incarnation: number;
  point: string;
  after: number;
  restartDelayMs?: number;
  /** the fault's label in the report, e.g. crash-consumer#1 */
  label?: string;
}

export type WorkerBase = Omit<WorkerConfig, "worker" | "slot" | "historyFile" | "crash" | "seed">;

export interface PoolOptions {
  dir: string;
  base: WorkerBase;
  workers: number;
  restartDelayMs: number;
  crashes: CrashPlan[];
  seed: number;
  history: HistoryWriter;
  clock: () => number;
  /** extra environment of the worker processes (secrets kept out of their config files) */
  env?: Record<string, string>;
}

interface Slot {
  incarnation: number;
  child?: ChildProcess;
  /** a frozen zombie of this slot (crash-producer), still alive but not current */
  zombie?: ChildProcess;
  restarting: boolean;
  pendingPoint?: string;
}

/**
 * The processor's worker processes: starts them, restarts one that died (a crash is a real
 * process death), freezes one to make a zombie, and tells when the input is fully processed.
 */
export class ProcessorPool {
  private readonly slots: Slot[];
  private readonly lastOffsets = new Map<number, number>();
  private stopping = false;
  private readonly crashedWorkers = new Set<string>();
  readonly fatalErrors: string[] = [];

  constructor(private readonly opts: PoolOptions) {
    this.slots = Array.from({ length: opts.workers }, () => ({
      incarnation: 0,
      restarting: false,
    }));
  }

  start(): void {
    for (let slot = 0; slot < this.slots.length; slot += 1) this.launch(slot);
  }

  /** SIGKILL the current process of a slot (a crash at a random moment). */
  kill(slot: number, point = "random"): void {
    const s = this.slot(slot);
    if (!s.child) return;
    s.pendingPoint = point;
    s.child.kill("SIGKILL");
  }

  /** Freeze a slot's process and start its replacement with the same transactional id. */
  freeze(slot: number): void {
    const s = this.slot(slot);
    if (!s.child) return;
    s.child.kill("SIGSTOP");
    s.zombie = s.child;
    s.child = undefined;
    this.record("crash", slot, s.incarnation, "frozen (zombie)");
    s.incarnation += 1;
    this.launch(slot);
  }

  /** Resume a frozen zombie: its next transactional call must be fenced. */
  thaw(slot: number): void {
    const s = this.slot(slot);
    s.zombie?.kill("SIGCONT");
  }

  /** Every partition processed up to the given end offsets, and no worker down. */
  caughtUp(endOffsets: Map<number, number>): boolean {
    if (this.slots.some((s) => s.restarting || !s.child)) return false;
    for (const [partition, end] of endOffsets) {
      if (end > 0 && (this.lastOffsets.get(partition) ?? -1) < end - 1) return false;
    }
    return true;
  }

  /** Whether that incarnation of the slot died (crash, kill or fatal error). */
  crashed(slot: number, incarnation: number): boolean {
    return this.crashedWorkers.has(`${slot}.${incarnation}`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const all = this.slots.flatMap((s) => [s.child, s.zombie]).filter((c) => c !== undefined);
    for (const z of this.slots.map((s) => s.zombie)) z?.kill("SIGCONT");
    await Promise.all(all.map((c) => stopChild(c)));
  }

  private launch(slot: number): void {
    const s = this.slot(slot);
    const worker = `${slot}.${s.incarnation}`;
    const crash = this.opts.crashes.find((c) => c.slot === slot && c.incarnation === s.incarnation);
    const config: WorkerConfig = {
      ...this.opts.base,
      // One transactional id per slot: a slot's next incarnation fences its predecessor, and
      // two slots never fence each other.
      transactionalId: `${this.opts.base.transactionalId}-${slot}`,
      worker,
      slot,
      historyFile: path.join(this.opts.dir, `processor-${slot}-${s.incarnation}.jsonl`),
      seed: this.opts.seed + slot * 1000 + s.incarnation,
      ...(crash ? { crash: { point: crash.point, after: crash.after } } : {}),
    };
    const configFile = path.join(this.opts.dir, `worker-${worker}.json`);
    fs.writeFileSync(configFile, JSON.stringify(config));
    const log = fs.openSync(path.join(this.opts.dir, `worker-${worker}.log`), "a");
    const child = fork(WORKER_MAIN, [configFile], {
      stdio: ["ignore", log, log, "ipc"],
      env: { ...process.env, ...this.opts.env },
    });
    fs.closeSync(log);
    s.child = child;
    s.restarting = false;
    s.pendingPoint = crash?.point;
    this.record("start", slot, s.incarnation);
    child.on("message", (m: WorkerMessage) => this.onMessage(m));
    child.on("exit", (code, signal) => this.onExit(slot, child, code, signal, crash));
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === "batch") {
      this.lastOffsets.set(
        m.partition,
        Math.max(this.lastOffsets.get(m.partition) ?? -1, m.lastOffset),
      );
    } else if (m.type === "fatal") {
      this.fatalErrors.push(m.error);
    }
  }

  private onExit(
    slot: number,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    crash: CrashPlan | undefined,
  ): void {
    const s = this.slot(slot);
    if (s.zombie === child) {
      s.zombie = undefined;
      return;
    }
    if (s.child !== child || this.stopping) return;
    s.child = undefined;
    const point =
      signal === "SIGKILL"
        ? (s.pendingPoint ?? "killed")
        : code === 75
          ? "fatal-error"
          : `exit ${code ?? signal}`;
    this.record("crash", slot, s.incarnation, point);
    if (crash?.label && signal === "SIGKILL" && point === crash.point) {
      this.recordFault(crash.label, `worker ${slot}.${s.incarnation} at ${point}`);
    }
    this.crashedWorkers.add(`${slot}.${s.incarnation}`);
    s.restarting = true;
    s.incarnation += 1;
    const delay = crash?.restartDelayMs ?? this.opts.restartDelayMs;
    setTimeout(() => {
      if (!this.stopping) this.launch(slot);
    }, delay).unref();
  }

  /** A planned crash is a fault like any other in the report: an instant, start = stop. */
  private recordFault(label: string, target: string): void {
    const time = this.opts.clock();
    for (const phase of ["start", "stop"] as const) {
      this.opts.history.append({ type: "fault", phase, fault: label, target, time });
    }
    void this.opts.history.flush().catch(() => {});
  }

  private record(
    phase: "start" | "crash" | "stop",
    slot: number,
    incarnation: number,
    point?: string,
  ): void {
    appendWorkerEvent(this.opts.history, phase, `${slot}.${incarnation}`, this.opts.clock(), point);
  }

  private slot(slot: number): Slot {
    const s = this.slots[slot];
    if (!s) throw new Error(`no processor worker ${slot}`);
    return s;
  }
}

/** SIGTERM (the worker disconnects cleanly), SIGKILL after 10 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
