/**
 * Errors the CLI maps to exit codes (see design: 2 = bad usage or profile, 3 = infrastructure).
 * `retriable` tells a caller whether trying the same thing again could succeed.
 */

export interface ErrorOptions {
  exitCode: number;
  retriable?: boolean;
  cause?: unknown;
}

export class KafkaChaosError extends Error {
  readonly exitCode: number;
  readonly retriable: boolean;

  constructor(message: string, options: ErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad command-line usage: an unknown flag, a malformed value. */
export class UsageError extends KafkaChaosError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 2, retriable: false });
  }
}

/**
 * A profile that cannot be used. The message is one line: `<file>: <path>: <problem>`,
 * where path is a field path such as `producer.acks` or `faults[1].for`, or a location
 * such as `line 3, column 7`; it is left out when empty.
 */
export class ProfileError extends KafkaChaosError {
  readonly file: string;
  readonly path: string;
  readonly problem: string;

  constructor(file: string, path: string, problem: string, options: { cause?: unknown } = {}) {
    super([file, path, problem].filter((part) => part !== "").join(": "), {
      ...options,
      exitCode: 2,
      retriable: false,
    });
    this.file = file;
    this.path = path;
    this.problem = problem;
  }
}

/** Something the run depends on was unreachable or misbehaved: the cluster, Toxiproxy. */
export class InfrastructureError extends KafkaChaosError {
  /** What was unreachable, e.g. `127.0.0.1:9092` or `http://127.0.0.1:8474`. */
  readonly host: string;

  constructor(
    host: string,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(`${host}: ${message}`, { retriable: true, ...options, exitCode: 3 });
    this.host = host;
  }
}

/** What stopped a live run: a proxy or topic that vanished, or a stall no fault explains. */
export type BrokenBy = "toxiproxy" | "proxies" | "proxy-config" | "topic" | "stall";

/**
 * Mid-run, something the run stands on went away (its proxies, its topics, Toxiproxy itself) or
 * the workload stopped moving with no fault to explain it. The run is stopped, never judged: a
 * verdict on a broken run would blame the system under test for the harness. Its history stays.
 */
export class RunBrokenError extends InfrastructureError {
  readonly brokenBy: BrokenBy;

  constructor(host: string, brokenBy: BrokenBy, message: string) {
    super(host, message, { retriable: false });
    this.brokenBy = brokenBy;
  }
}

/**
 * The first sends of a run, or a large share of them, were refused with the same error that no
 * retry can fix (a message too large for the topic, a missing permission): the run stops rather
 * than record thousands of refusals. Exit 2 when the profile asks for what the cluster refuses,
 * else 3 (the cluster's settings or the client's access).
 */
export class MisconfigurationError extends KafkaChaosError {
  /** the refusal, e.g. MESSAGE_TOO_LARGE */
  readonly kind: string;
  /** sends refused with it */
  readonly sends: number;

  constructor(kind: string, sends: number, message: string, profileAtFault: boolean) {
    super(message, { exitCode: profileAtFault ? 2 : 3, retriable: false });
    this.kind = kind;
    this.sends = sends;
  }
}

/** Anything unforeseen is an infrastructure failure: never a pass, never a false violation. */
export function exitCodeOf(error: unknown): number {
  return error instanceof KafkaChaosError ? error.exitCode : 3;
}

/**
 * The user's app could not be run: it exited before it was ready, never became ready, or never
 * worked off the input. Exit 3: the run is not judged (the app's own log says why).
 */
export class AppError extends KafkaChaosError {
  constructor(message: string) {
    super(`app: ${message}`, { exitCode: 3, retriable: false });
  }
}

export function errorText(err: unknown): string {
  const e = err as {
    name?: string;
    message?: string;
    type?: unknown;
    cause?: { message?: string };
  };
  const cause = e.cause?.message ? ` (${e.cause.message})` : "";
  // kafkajs names the protocol error in `type` (e.g. INVALID_PRODUCER_EPOCH)
  const code = typeof e.type === "string" ? ` [${e.type}]` : "";
  return `${e.name ?? "Error"}${code}: ${e.message ?? String(err)}${cause}`;
}
