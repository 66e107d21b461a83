import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { AppError, UsageError } from "../errors.js";
import type { AppControl } from "../faults/ports.js";
import { appendWorkerEvent, type HistoryWriter } from "../history/writer.js";
import type { AppSettings } from "../profiles/schema.js";
import { lastWritten, waitReady } from "./ready.js";

export interface AppOptions {
  settings: AppSettings;
  /** the program's working directory (absolute) */
  cwd: string;
  /** the environment of instance `i` (KAFKA_CHAOS_* on top of the tool's own) */
  env: (instance: number) => NodeJS.ProcessEnv;
  dir: string;
  history: HistoryWriter;
  clock: () => number;
}

interface Instance {
  incarnation: number;
  child?: ChildProcess;
  log?: string;
  /** why the current process is going away (a fault's kill or stop): not an unexpected exit */
  expected?: string;
  restart?: NodeJS.Timeout;
  /** how long the next restart waits, when a fault says */
  restartMs?: number;
  /** resolves when the current process has exited */
  exited?: Promise<void>;
}

/**
 * The instances of the user's own program: each runs in its own process group (so a wrapper
 * script and its children go together), its output in app-<i>.<incarnation>.log. A process that
 * dies, by a fault or by itself, is started again after the restart delay, as a supervisor would.
 */
export class AppInstances implements AppControl {
  private readonly instances: Instance[];
  private stopping = false;
  /** the last unexpected exit, for error messages */
  lastExit?: string;
  private readonly onExit = () => this.killAllSync();

  constructor(private readonly opts: AppOptions) {
    this.instances = Array.from({ length: opts.settings.instances }, () => ({ incarnation: 0 }));
  }

  /** Starts every instance and waits until each is ready; throws AppError or UsageError. */
  async start(): Promise<void> {
    process.on("exit", this.onExit);
    for (let i = 0; i < this.instances.length; i += 1) {
      const child = await this.launch(i);
      await waitReady({
        child,
        ready: this.opts.settings.ready,
        timeoutMs: this.opts.settings.readyTimeout,
        instance: i,
        log: this.instances[i]!.log!,
      });
    }
  }

  kill(instance: number, restartMs?: number): void {
    this.signal(instance, "SIGKILL", "killed", restartMs);
  }

  async stop(instance: number, restartMs?: number): Promise<void> {
    const exited = this.instances[instance]?.exited;
    this.signal(instance, "SIGTERM", "stopped", restartMs);
    const timer = setTimeout(
      () => this.groupSignal(this.instances[instance]?.child, "SIGKILL"),
      this.opts.settings.stopTimeout,
    );
    await exited;
    clearTimeout(timer);
  }

  pause(instance: number): void {
    this.groupSignal(this.instance(instance).child, "SIGSTOP");
  }

  resume(instance: number): void {
    this.groupSignal(this.instance(instance).child, "SIGCONT");
  }

  /** Every instance is running (none down for a restart). */
  allRunning(): boolean {
    return this.instances.every((s) => s.child !== undefined && s.restart === undefined);
  }

  /** The newest lines any instance wrote, for error messages. */
  lastLog(): string {
    const logs = this.instances.map((s) => s.log).filter((l): l is string => l !== undefined);
    const newest = logs.sort((a, b) => mtime(b) - mtime(a))[0];
    return newest ? lastWritten(newest) : "(no log)";
  }

  /** SIGTERM to every instance (SIGCONT first: a paused one could not act on it), SIGKILL later. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const waits: Promise<void>[] = [];
    for (const s of this.instances) {
      clearTimeout(s.restart);
      s.restart = undefined;
      if (!s.child) continue;
      s.expected = "stopped";
      this.groupSignal(s.child, "SIGCONT");
      this.groupSignal(s.child, "SIGTERM");
      const child = s.child;
      const timer = setTimeout(
        () => this.groupSignal(child, "SIGKILL"),
        this.opts.settings.stopTimeout,
      );
      waits.push(s.exited!.finally(() => clearTimeout(timer)));
    }
    await Promise.all(waits);
    process.off("exit", this.onExit);
  }

  private signal(instance: number, sig: NodeJS.Signals, why: string, restartMs?: number): void {
    const s = this.instance(instance);
    if (!s.child || this.stopping) return;
    s.expected = why;
    s.restartMs = restartMs;
    if (sig === "SIGTERM") this.groupSignal(s.child, "SIGCONT");
    this.groupSignal(s.child, sig);
  }

  private async launch(instance: number): Promise<ChildProcess> {
    const s = this.instance(instance);
    const { command } = this.opts.settings;
    s.log = path.join(this.opts.dir, `app-${instance}.${s.incarnation}.log`);
    const fd = fs.openSync(s.log, "a");
    const child = spawn(command[0]!, command.slice(1), {
      cwd: this.opts.cwd,
      env: this.opts.env(instance),
      stdio: ["ignore", fd, fd],
      detached: true,
    });
    fs.closeSync(fd);
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new UsageError(
            `app.command: cannot start ${command[0]} in ${this.opts.cwd} (${err.code ?? err.message})`,
          ),
        ),
      );
    });
    s.child = child;
    s.expected = undefined;
    s.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    // Started while the run was stopping (a restart under way): it must not outlive the run.
    if (this.stopping) this.groupSignal(child, "SIGKILL");
    this.record("start", instance, s.incarnation);
    child.once("exit", (code, signal) => this.exited(instance, child, code, signal));
    return child;
  }

  private exited(
    instance: number,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    const s = this.instance(instance);
    if (s.child !== child) return;
    s.child = undefined;
    const how = signal ?? `exit ${code}`;
    if (this.stopping) {
      this.record("stop", instance, s.incarnation, how);
      return;
    }
    const point = s.expected ? `${s.expected} (${how})` : `exited by itself (${how})`;
    if (!s.expected) this.lastExit = `instance ${instance} ${point}`;
    this.record("crash", instance, s.incarnation, point);
    s.incarnation += 1;
    const delay = s.restartMs ?? this.opts.settings.restartDelay;
    s.restartMs = undefined;
    s.restart = setTimeout(() => {
      s.restart = undefined;
      if (!this.stopping) void this.launch(instance).catch(() => {});
    }, delay);
  }

  private groupSignal(child: ChildProcess | undefined, sig: NodeJS.Signals): void {
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  }

  private killAllSync(): void {
    for (const s of this.instances) this.groupSignal(s.child, "SIGKILL");
  }

  private record(
    phase: "start" | "crash" | "stop",
    instance: number,
    incarnation: number,
    point?: string,
  ): void {
    const worker = `app-${instance}.${incarnation}`;
    appendWorkerEvent(this.opts.history, phase, worker, this.opts.clock(), point);
  }

  private instance(i: number): Instance {
    const s = this.instances[i];
    if (!s) throw new AppError(`no instance ${i}`);
    return s;
  }
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
