/**
 * Broker faults on a cluster the tool did not start: the user says how to kill, stop, start,
 * pause, resume, isolate and heal one broker as shell command templates, e.g.
 * `ssh {host} sudo systemctl kill -s KILL kafka`, and this runs them with `sh -c`.
 */
import { spawn } from "node:child_process";
import net from "node:net";
import { InfrastructureError, UsageError } from "../../errors.js";
import { BROKER_ACTIONS, type BrokerAction, type BrokerControl } from "../ports.js";

export { BROKER_ACTIONS, type BrokerAction } from "../ports.js";

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface BrokerTemplates {
  commands: Partial<Record<BrokerAction, string>>;
  hosts: BrokerAddress[];
  /** Bound on each command, and on the wait for a started broker to listen (default 60 s). */
  timeoutMs?: number;
}

/** Runs one command line; rejects when it fails or outlives `timeoutMs`. */
export type CommandRunner = (cmd: string, timeoutMs: number) => Promise<void>;

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/** Where a user sets the template of `action`: the environment, e.g. KAFKA_CHAOS_BROKER_KILL. */
export const envVarOf = (action: BrokerAction): string =>
  `KAFKA_CHAOS_BROKER_${action.toUpperCase()}`;

/** ... or the profile, e.g. brokers.commands.kill. */
export const profileFieldOf = (action: BrokerAction): string => `brokers.commands.${action}`;

/** The templates set in the environment (an empty variable is not set). */
export function templatesFromEnv(env: NodeJS.ProcessEnv): Partial<Record<BrokerAction, string>> {
  const commands: Partial<Record<BrokerAction, string>> = {};
  for (const action of BROKER_ACTIONS) {
    const value = env[envVarOf(action)];
    if (value !== undefined && value.trim() !== "") commands[action] = value;
  }
  return commands;
}

/** The actions among `needed` that have no template, in the order asked. */
export function missingTemplates(
  commands: Partial<Record<BrokerAction, string>>,
  needed: BrokerAction[],
): BrokerAction[] {
  return needed.filter((action) => (commands[action] ?? "").trim() === "");
}

const PLACEHOLDERS = ["host", "nodeId", "port"] as const;
/** `{name}`, but not the shell's own `${name}`; `{a,b}` and awk's `{print $1}` are not names. */
const PLACEHOLDER = /(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** Host names, IPv4 and IPv6 addresses: nothing a shell would read as more than a word. */
const SAFE_HOST = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** The template with {host}, {nodeId} and {port} filled in; any other {placeholder} is refused. */
export function renderCommand(template: string, broker: BrokerAddress): string {
  checkBroker(broker);
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    host: broker.host,
    nodeId: String(broker.nodeId),
    port: String(broker.port),
  };
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new UsageError(
        `broker command "${template}": unknown placeholder {${name}}; ` +
          `known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")} (\${VAR} is left to the shell)`,
      );
    }
    return values[name as (typeof PLACEHOLDERS)[number]];
  });
}

/** Values filled into a shell command line must stay one word each. */
function checkBroker(broker: BrokerAddress): void {
  if (!SAFE_HOST.test(broker.host)) {
    throw new UsageError(
      `broker ${broker.nodeId}: host "${broker.host}" has characters a shell would interpret; ` +
        "only letters, digits, '.', '-', '_' and ':' can be filled into a broker command",
    );
  }
  if (!Number.isInteger(broker.nodeId) || broker.nodeId < 0) {
    throw new UsageError(`broker node id ${broker.nodeId}: expected a whole number`);
  }
  if (!Number.isInteger(broker.port) || broker.port < 1 || broker.port > 65535) {
    throw new UsageError(`broker ${broker.nodeId}: port ${broker.port}: expected 1-65535`);
  }
}

/** A broker command that failed, timed out or could not be run. */
export class BrokerCommandError extends InfrastructureError {
  constructor(
    host: string,
    readonly action: BrokerAction,
    readonly nodeId: number,
    readonly command: string,
    /** what happened: "exited with code 1", "timed out after 60 s", … */
    readonly problem: string,
    /** the end of its stderr (or stdout when stderr was empty), trimmed */
    readonly stderr: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      host,
      `${action} of broker ${nodeId}: \`${command}\` ${problem}` +
        (stderr === "" ? "" : `:\n${stderr.replace(/^/gm, "  ")}`),
      options,
    );
  }
}

/** What the default runner rejects with: the problem, and the output that tells why. */
export class CommandFailure extends Error {
  constructor(
    readonly problem: string,
    readonly output: string,
  ) {
    super(output === "" ? problem : `${problem}: ${output}`);
    this.name = "CommandFailure";
  }
}

const OUTPUT_LINES = 20;
const OUTPUT_KEEP_BYTES = 64 * 1024;

/**
 * `sh -c cmd`, in its own process group so that a timeout kills what it started too (an ssh, a
 * sleep). Resolves when it exits 0; nothing it prints reaches the run's stdout.
 */
export const runShell: CommandRunner = (cmd, timeoutMs) =>
  new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", cmd], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stderr = "";
    let stdout = "";
    const keep = (text: string, chunk: Buffer) =>
      (text + chunk.toString()).slice(-OUTPUT_KEEP_BYTES);
    child.stdout.on("data", (d: Buffer) => (stdout = keep(stdout, d)));
    child.stderr.on("data", (d: Buffer) => (stderr = keep(stderr, d)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    const output = () => lastLines(stderr.trim() === "" ? stdout : stderr);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new CommandFailure(`could not be run (${e.message})`, ""));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new CommandFailure(`timed out after ${seconds(timeoutMs)}`, output()));
      else if (code === 0) resolve();
      else
        reject(
          new CommandFailure(
            code === null ? `was killed by ${signal}` : `exited with code ${code}`,
            output(),
          ),
        );
    });
  });

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-OUTPUT_LINES).join("\n");
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/**
 * BrokerControl from the user's command templates. Every template is checked against every
 * broker when it is built, so a bad placeholder or host is a usage error before the run, not in
 * the middle of a fault; a missing template is one only when its action is asked for (a run
 * checks the actions its faults need up front with missingTemplates). kill and stop must return
 * once the broker is down; start returns once the broker accepts TCP connections again.
 */
export class TemplateBrokerControl implements BrokerControl {
  private readonly brokers = new Map<number, BrokerAddress>();
  private readonly timeoutMs: number;

  constructor(
    private readonly templates: BrokerTemplates,
    private readonly run: CommandRunner = runShell,
  ) {
    this.timeoutMs = templates.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    for (const broker of templates.hosts) {
      if (this.brokers.has(broker.nodeId)) {
        throw new UsageError(`broker ${broker.nodeId} is listed twice`);
      }
      this.brokers.set(broker.nodeId, broker);
    }
    for (const action of BROKER_ACTIONS) {
      const template = templates.commands[action];
      if (template === undefined || template.trim() === "") continue;
      for (const broker of templates.hosts) {
        try {
          renderCommand(template, broker);
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          throw new UsageError(`${envVarOf(action)} / ${profileFieldOf(action)}: ${e.message}`);
        }
      }
    }
  }

  nodes(): number[] {
    return [...this.brokers.keys()];
  }

  /** The command `action` would run against broker `nodeId`, without running it. */
  dryRun(action: BrokerAction, nodeId: number): string {
    const template = this.templates.commands[action];
    if (template === undefined || template.trim() === "") {
      throw new UsageError(
        `no command to ${action} a broker: set ${envVarOf(action)} or ${profileFieldOf(action)} ` +
          "in the profile (placeholders: {host} {nodeId} {port})",
      );
    }
    return renderCommand(template, this.broker(nodeId));
  }

  kill(nodeId: number): Promise<void> {
    return this.exec("kill", nodeId);
  }

  stop(nodeId: number): Promise<void> {
    return this.exec("stop", nodeId);
  }

  async start(nodeId: number): Promise<void> {
    await this.exec("start", nodeId);
    const broker = this.broker(nodeId);
    const problem = await waitForListener(broker.host, broker.port, this.timeoutMs);
    if (problem !== undefined) {
      throw new BrokerCommandError(
        `${broker.host}:${broker.port}`,
        "start",
        nodeId,
        this.dryRun("start", nodeId),
        `succeeded, but the broker did not accept connections within ${seconds(this.timeoutMs)} (${problem})`,
        "",
      );
    }
  }

  pause(nodeId: number): Promise<void> {
    return this.exec("pause", nodeId);
  }

  resume(nodeId: number): Promise<void> {
    return this.exec("resume", nodeId);
  }

  isolate(nodeId: number): Promise<void> {
    return this.exec("isolate", nodeId);
  }

  heal(nodeId: number): Promise<void> {
    return this.exec("heal", nodeId);
  }

  private broker(nodeId: number): BrokerAddress {
    const broker = this.brokers.get(nodeId);
    if (!broker) {
      throw new UsageError(
        `broker ${nodeId} is not one of the cluster's brokers (${this.nodes().join(", ")})`,
      );
    }
    return broker;
  }

  private async exec(action: BrokerAction, nodeId: number): Promise<void> {
    const command = this.dryRun(action, nodeId);
    const broker = this.broker(nodeId);
    try {
      await this.run(command, this.timeoutMs);
    } catch (e) {
      const failure =
        e instanceof CommandFailure
          ? e
          : new CommandFailure(`failed: ${e instanceof Error ? e.message : String(e)}`, "");
      throw new BrokerCommandError(
        `${broker.host}:${broker.port}`,
        action,
        nodeId,
        command,
        failure.problem,
        failure.output,
        { cause: e },
      );
    }
  }
}

/**
 * Tries host:port until a TCP connection is accepted; undefined once it is, else the last
 * connection error when `timeoutMs` has passed.
 */
export async function waitForListener(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = "not tried";
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return last;
    const error = await tryConnect(host, port, Math.min(left, 2000));
    if (error === undefined) return undefined;
    last = error;
    const pause = Math.min(250, deadline - Date.now());
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
  }
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (error: string | undefined) => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${seconds(timeoutMs)}`));
    socket.once("connect", () => done(undefined));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}
