import { RunBrokenError, type BrokenBy } from "../errors.js";
import { formatDuration } from "../faults/spec.js";
import type { HistoryEvent } from "../history/events.js";

/**
 * The infrastructure watchdog of a live run. About once a second it checks that the run still
 * stands on what it set up — its proxies exist in Toxiproxy and look as the fault schedule says,
 * its topics exist — and that the workload moves: the producer gets answers (ok or fail) and the
 * processor processes input that is waiting, unless an active fault (or one that just stopped)
 * explains the pause. The first problem found is returned as a RunBrokenError: the run is then
 * stopped and not judged. All I/O goes through ports, so the logic is tested with fakes.
 */

/** A proxy as Toxiproxy lists it. */
export interface ProxyState {
  enabled: boolean;
  toxics: string[];
  /** host:port it listens on */
  listen?: string;
}

/** A network fault the nemesis has active: the toxic it adds and the proxies it breaks. */
export interface ActiveFault {
  label: string;
  toxic: string;
  proxies: string[];
}

export interface WatchdogPorts {
  /** Every proxy Toxiproxy has now, by name; rejects when Toxiproxy does not answer. */
  listProxies(): Promise<Map<string, ProxyState>>;
  /** The run's topics the cluster has, with their partition counts; rejects when it does not answer. */
  listTopics(): Promise<Map<string, number>>;
  /** The network faults the nemesis has active now. */
  activeFaults(): ActiveFault[];
  /** The processor stage, when the run has one. */
  processor?: {
    /** input records processed so far; grows with every processed chunk */
    processed(): number;
    /** whether input is waiting to be processed (or a worker is down); rejects when unknown */
    pending(): Promise<boolean>;
    /** the last error a worker reported, if any */
    lastError(): string | undefined;
  };
  /** ms since the run started: the history's clock */
  now(): number;
}

export interface WatchdogOptions {
  ports: WatchdogPorts;
  /** the run's proxy names */
  proxies: string[];
  /** the run's topic names */
  topics: string[];
  toxiproxyUrl: string;
  bootstrap: string;
  /** longest pause of the producer or processor that no fault explains */
  stallLimitMs: number;
  /** how long after a fault stopped it still explains a pause (reconnects, rebalances) */
  graceMs: number;
  /** how long a Toxiproxy that does not answer is tolerated; default 3 s */
  unreachableMs?: number;
  /** time limit of each port call; default 3 s */
  callTimeoutMs?: number;
  /** appended to each message: what became of the run and where its files are */
  hint?: (brokenBy: BrokenBy) => string;
}

/** A problem seen by one check; `key` identifies it across checks. */
interface Suspect {
  key: string;
  brokenBy: BrokenBy;
  host: string;
  message: string;
}

export class Watchdog {
  /** producer batches invoked and not yet completed */
  private outstanding = 0;
  /** since the last check: an ok/fail outcome (progress), an unknown one (trying, no answer) */
  private producerMoved = false;
  private producerTried = false;
  private producerError?: string;
  private producerStalledMs = 0;
  private processorStalledMs = 0;
  private processed = 0;
  private pending = false;
  private workerError?: string;
  /** faults started and not stopped, by label, from the history's fault events */
  private readonly faultsActive = new Set<string>();
  private lastFaultStop = Number.NEGATIVE_INFINITY;
  private lastCheck?: number;
  private unreachableSince?: number;
  /** problems that need a second sighting (a fault being applied looks like a mismatch) */
  private suspects = new Set<string>();
  /** partition count of each run topic when first seen */
  private readonly partitions = new Map<string, number>();

  constructor(private readonly opts: WatchdogOptions) {}

  /** Every history event of the run passes here (see tapHistory). */
  observe(e: HistoryEvent): void {
    switch (e.type) {
      case "invoke":
        this.outstanding += 1;
        break;
      case "ok":
      case "fail":
        this.outstanding = Math.max(0, this.outstanding - 1);
        this.producerMoved = true;
        if (e.type === "fail" && e.error) this.producerError = e.error;
        break;
      case "unknown":
        this.outstanding = Math.max(0, this.outstanding - 1);
        this.producerTried = true;
        if (e.error) this.producerError = e.error;
        break;
      case "fault":
        if (e.phase === "start") this.faultsActive.add(e.fault);
        else {
          this.faultsActive.delete(e.fault);
          this.lastFaultStop = Math.max(this.lastFaultStop, e.time);
        }
        break;
      case "worker":
        if (e.phase === "crash") {
          this.workerError = `worker ${e.worker} ${e.point === "fatal-error" ? "stopped on an error" : `crashed (${e.point ?? "unknown"})`}`;
        }
        break;
      default:
        break;
    }
  }

  /** Faults active now as the history recorded them, for progress output. */
  activeFaults(): string[] {
    return [...this.faultsActive];
  }

  /** Input records the processor has processed so far (0 without a processor). */
  processedCount(): number {
    return this.opts.ports.processor?.processed() ?? 0;
  }

  /**
   * One round of checks; the first problem that stops the run, if any. Vanished proxies stop it
   * at once; a mismatch of a proxy's configuration or a missing topic must be seen twice in a
   * row (a fault being started or stopped looks like a mismatch for a moment).
   */
  async check(): Promise<RunBrokenError | undefined> {
    const now = this.opts.ports.now();
    const dt = this.lastCheck === undefined ? 0 : Math.max(0, now - this.lastCheck);
    this.lastCheck = now;
    const found = [...(await this.proxyProblems(now, false)), ...(await this.topicProblems())];
    const stall = await this.stallProblem(now, dt);
    // Vanished proxies and a Toxiproxy gone quiet need no second look (the latter waited already).
    const atOnce: BrokenBy[] = ["proxies", "toxiproxy"];
    const confirmed = found.find((s) => atOnce.includes(s.brokenBy) || this.suspects.has(s.key));
    this.suspects = new Set(found.map((s) => s.key));
    const problem = confirmed ?? (stall ? { ...stall, key: "stall" } : undefined);
    return problem ? this.error(problem) : undefined;
  }

  /**
   * When something else failed mid-run (a fault that could not be applied, an admin call that
   * broke): whether the run's proxies or topics are the cause. One round, nothing to confirm.
   */
  async diagnose(): Promise<RunBrokenError | undefined> {
    const now = this.opts.ports.now();
    const found = [...(await this.proxyProblems(now, true)), ...(await this.topicProblems())];
    const first = found[0];
    return first ? this.error(first) : undefined;
  }

  private error(s: Omit<Suspect, "key">): RunBrokenError {
    const hint = this.opts.hint?.(s.brokenBy) ?? "";
    return new RunBrokenError(s.host, s.brokenBy, `${s.message}${hint ? `; ${hint}` : ""}`);
  }

  private async proxyProblems(now: number, immediate: boolean): Promise<Suspect[]> {
    const { toxiproxyUrl: host, proxies: own } = this.opts;
    let listed: Map<string, ProxyState>;
    try {
      listed = await this.bounded(this.opts.ports.listProxies());
      this.unreachableSince = undefined;
    } catch (err) {
      this.unreachableSince ??= now;
      const limit = this.opts.unreachableMs ?? 3000;
      if (!immediate && now - this.unreachableSince < limit) return [];
      const message =
        `Toxiproxy stopped answering (${causeOf(err)}); the run's proxies ` +
        `(${list(own)}) went with it — was it stopped?`;
      return [{ key: "toxiproxy", brokenBy: "toxiproxy", host, message }];
    }
    const missing = own.filter((name) => !listed.has(name));
    if (missing.length > 0) {
      const message = `Toxiproxy lost the run's proxies (${list(missing)}) — was it restarted?`;
      return [{ key: "proxies", brokenBy: "proxies", host, message }];
    }
    return this.configProblems(listed).map((message) => ({
      key: message,
      brokenBy: "proxy-config" as const,
      host,
      message: `${message} — was Toxiproxy reset or changed by hand?`,
    }));
  }

  /**
   * Each run proxy must look as the active faults make it look, whatever their kind: a fault is
   * in effect on a proxy when the proxy is disabled or carries the fault's toxic. A disabled
   * proxy or a toxic that no active fault explains is a fault nobody recorded.
   */
  private configProblems(listed: Map<string, ProxyState>): string[] {
    const active = this.opts.ports.activeFaults();
    const problems: string[] = [];
    for (const name of this.opts.proxies) {
      const state = listed.get(name);
      if (!state) continue;
      const on = active.filter((f) => f.proxies.includes(name));
      if (!state.enabled && on.length === 0) problems.push(disabledProblem(name, state, listed));
      const explained = new Set(on.map((f) => f.toxic));
      for (const toxic of state.toxics.filter((t) => !explained.has(t))) {
        problems.push(`the run's proxy ${name} has a toxic ${toxic} that no active fault explains`);
      }
      for (const f of on) {
        if (state.enabled && !state.toxics.includes(f.toxic)) {
          problems.push(`fault ${f.label} is no longer in effect on the run's proxy ${name}`);
        }
      }
    }
    return problems;
  }

  /**
   * Each run topic must exist with the partitions it had when first seen. A deleted topic can
   * come back at once where the cluster creates topics on a client's request; with the broker's
   * default partition count, which is how that shows.
   */
  private async topicProblems(): Promise<Suspect[]> {
    let topics: Map<string, number>;
    try {
      topics = await this.bounded(this.opts.ports.listTopics());
    } catch {
      // An unreachable cluster is not a vanished topic: if it lasts, the stall check reports it.
      return [];
    }
    const host = this.opts.bootstrap;
    return this.opts.topics.flatMap((t): Suspect[] => {
      const partitions = topics.get(t);
      if (partitions === undefined) {
        const message =
          `the run's topic ${t} was deleted (it is gone from the cluster: deleted, ` +
          `or a broker came back without its data)`;
        return [{ key: `topic ${t}`, brokenBy: "topic", host, message }];
      }
      const known = this.partitions.get(t);
      if (known === undefined) this.partitions.set(t, partitions);
      if (known === undefined || known === partitions) return [];
      const message =
        `the run's topic ${t} changed under the run: it had ${known} partitions, now ` +
        `${partitions} (deleted and created again?)`;
      return [{ key: `topic ${t} partitions`, brokenBy: "topic", host, message }];
    });
  }

  private explained(now: number): boolean {
    return this.faultsActive.size > 0 || now - this.lastFaultStop < this.opts.graceMs;
  }

  private async stallProblem(now: number, dt: number): Promise<Omit<Suspect, "key"> | undefined> {
    const explained = this.explained(now);
    const { stallLimitMs, bootstrap: host } = this.opts;
    const trying = this.outstanding > 0 || this.producerTried;
    if (this.producerMoved) this.producerStalledMs = 0;
    else if (trying && !explained) this.producerStalledMs += dt;
    this.producerMoved = false;
    this.producerTried = false;
    if (this.producerStalledMs >= stallLimitMs) {
      return {
        brokenBy: "stall",
        host,
        message:
          `the producer got no answer (no send acknowledged or refused) for ` +
          `${seconds(this.producerStalledMs)} and no fault explains it (stall limit ` +
          `${formatDuration(stallLimitMs)}); last error: ${this.producerError ?? "none"}`,
      };
    }
    const proc = this.opts.ports.processor;
    if (!proc) return undefined;
    const processed = proc.processed();
    if (processed > this.processed) {
      this.processed = processed;
      this.processorStalledMs = 0;
      return undefined;
    }
    if (explained) return undefined;
    // Unknown (the cluster does not answer): as last seen.
    this.pending = await this.bounded(proc.pending()).catch(() => this.pending);
    if (!this.pending) return undefined;
    this.processorStalledMs += dt;
    if (this.processorStalledMs < stallLimitMs) return undefined;
    const why = proc.lastError() ?? this.workerError ?? "none";
    return {
      brokenBy: "stall",
      host,
      message:
        `the processor processed nothing for ${seconds(this.processorStalledMs)} while input ` +
        `was waiting, and no fault explains it (stall limit ${formatDuration(stallLimitMs)}); ` +
        `last worker error: ${why}`,
    };
  }

  private bounded<T>(p: Promise<T>): Promise<T> {
    const ms = this.opts.callTimeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}

/**
 * Runs the watchdog's checks every `intervalMs` (never two at once) until stopped or until one
 * finds a problem, which goes to `onBroken` once. `stop()` settles once no check is running:
 * a check still running when its admin client is disconnected would make kafkajs reconnect
 * that client, and the open socket would keep the process from exiting.
 */
export function startWatchdog(
  watchdog: Watchdog,
  onBroken: (err: RunBrokenError) => void,
  intervalMs = 1000,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const round = async () => {
    const problem = await watchdog.check().catch(() => undefined);
    if (stopped) return;
    if (problem) {
      stopped = true;
      onBroken(problem);
      return;
    }
    timer = setTimeout(start, intervalMs);
  };
  const start = () => {
    running = round();
  };
  timer = setTimeout(start, intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      return running;
    },
  };
}

/**
 * A disabled proxy frees its port: another run on the same Toxiproxy may take it meanwhile, and
 * then this one cannot be enabled again. Say so when that is what happened.
 */
function disabledProblem(name: string, state: ProxyState, listed: Map<string, ProxyState>): string {
  const taker = [...listed].find(
    ([other, p]) => other !== name && p.enabled && state.listen && p.listen === state.listen,
  );
  if (taker) {
    return (
      `the run's proxy ${name} cannot be enabled again: while a fault had it disabled, ` +
      `proxy ${taker[0]} took its address ${state.listen} (another run on this Toxiproxy? ` +
      `give concurrent runs their own --proxy-ports)`
    );
  }
  const where = state.listen ? ` (or another program took its address ${state.listen})` : "";
  return `the run's proxy ${name} is disabled, but no fault of the run is active on it${where}`;
}

function causeOf(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.message ?? e.cause?.code ?? e.message ?? String(err);
}

function list(names: string[]): string {
  return names.length <= 4 ? names.join(", ") : `${names.slice(0, 4).join(", ")}, …`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
