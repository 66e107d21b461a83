/**
 * Producers on other cores (workload.producerThreads): each producer runs runProducer with its
 * own client in its own worker thread (kafkajs, whose encoding is nearly all of a producer's
 * CPU) or child process (librdkafka: its native binding is loaded by this process already and
 * cannot be loaded again in a thread of it). The main thread keeps the one history writer: a
 * producer's events reach it at each flush (before every send, so an invoke is on disk before
 * any byte of its batch can reach the broker), and the run's progress is counted from them.
 */
import { fork } from "node:child_process";
import { Worker } from "node:worker_threads";
import { MisconfigurationError } from "../errors.js";
import type { HistoryEvent } from "../history/events.js";
import type { ClientOptions } from "../clients/kafkajs.js";
import type { ProducerOptions, Progress } from "./producer.js";
import type { Fate, InDoubt } from "../reader/fate.js";

/** What a producer thread starts with (structured-cloned). */
export interface ThreadSetup {
  client: Omit<ClientOptions, "route"> & { route: [string, { host: string; port: number }][] };
  producer: Pick<
    ProducerOptions,
    | "runId"
    | "topic"
    | "producerId"
    | "messages"
    | "transactionalId"
    | "settings"
    | "workload"
    | "identity"
    | "client"
    | "brokers"
    | "connection"
  >;
  /** epoch ms of the run clock's 0 */
  t0: number;
  /** whether a failed commit may be resolved (asked of the main thread) */
  resolves: boolean;
}

/** Thread → main thread. `events` with id -1 need no answer (not waited for). */
export type FromThread =
  | { type: "events"; id: number; events: HistoryEvent[] }
  | { type: "doubt"; id: number; doubt: InDoubt }
  | { type: "done" }
  | { type: "error"; error: ThreadError };

/** Main thread → thread: the answer to a message with that id, or stop (a process: its setup). */
export type ToThread =
  | { type: "flushed"; id: number }
  | { type: "fate"; id: number; fate: Fate }
  | { type: "stop" }
  | { type: "setup"; setup: ThreadSetup };

/** A producer's thread or process, as the main thread talks to it. */
interface Runner {
  post(m: ToThread): void;
  on(event: "message", listener: (m: FromThread) => void): void;
  on(event: "error", listener: (err: Error) => void): void;
  on(event: "exit", listener: () => void): void;
  end(): void;
}

interface ThreadError {
  name: string;
  message: string;
  kind?: string;
  sends?: number;
  exitCode?: number;
}

/** How long a thread asked to stop may take to finish its send before it is terminated. */
const STOP_GRACE_MS = 5000;

/**
 * Runs each producer in its own worker thread; as runProducers, the first one to fail stops
 * the others, and once all have ended its error is thrown. `client`: the producers' client
 * settings (one client per thread). All producers share one history and one progress.
 */
export async function runProducerThreads(
  all: ProducerOptions[],
  client: ClientOptions,
): Promise<void> {
  const workers: Runner[] = [];
  let failure: unknown;
  const stopAll = () => {
    for (const w of workers) w.post({ type: "stop" });
    const timer = setTimeout(() => {
      for (const w of workers) w.end();
    }, STOP_GRACE_MS);
    timer.unref();
  };
  const signals = [...new Set(all.map((o) => o.signal))];
  for (const s of signals) s.addEventListener("abort", stopAll, { once: true });
  try {
    await Promise.all(
      all.map(
        (opts) =>
          new Promise<void>((resolve) => {
            const worker = start(opts, client);
            workers.push(worker);
            if (opts.signal.aborted) worker.post({ type: "stop" });
            const fail = (err: unknown) => {
              if (failure === undefined) {
                failure = err;
                stopAll();
              }
            };
            worker.on("message", (m: FromThread) => {
              if (m.type === "events") {
                try {
                  for (const e of m.events) {
                    opts.history.append(e);
                    countEvent(opts.progress, e);
                  }
                } catch (err) {
                  // The history is closed: the run was given up while this thread still sent.
                  fail(err);
                  return;
                }
                opts.history.flush().then(() => {
                  if (m.id >= 0) worker.post({ type: "flushed", id: m.id });
                }, fail);
              } else if (m.type === "doubt") {
                const resolveInDoubt = opts.resolveInDoubt ?? (async () => undefined);
                void resolveInDoubt(m.doubt)
                  .catch(() => undefined)
                  .then((fate) => worker.post({ type: "fate", id: m.id, fate }));
              } else {
                // Done (or failed): its last events are written; the thread may go.
                if (m.type === "error") fail(threadError(m.error));
                worker.end();
              }
            });
            worker.on("error", fail);
            worker.on("exit", () => resolve());
          }),
      ),
    );
  } finally {
    for (const s of signals) s.removeEventListener("abort", stopAll);
  }
  if (failure !== undefined) throw failure;
}

function start(opts: ProducerOptions, client: ClientOptions): Runner {
  const setup: ThreadSetup = {
    client: { ...client, route: [...(client.route ?? new Map())] },
    producer: {
      runId: opts.runId,
      topic: opts.topic,
      producerId: opts.producerId,
      messages: opts.messages,
      ...(opts.transactionalId ? { transactionalId: opts.transactionalId } : {}),
      settings: opts.settings,
      workload: opts.workload,
      ...(opts.identity ? { identity: opts.identity } : {}),
      ...(opts.client ? { client: opts.client } : {}),
      ...(opts.brokers ? { brokers: opts.brokers } : {}),
      ...(opts.connection ? { connection: opts.connection } : {}),
    },
    t0: Date.now() - opts.clock(),
    resolves: opts.resolveInDoubt !== undefined,
  };
  const entry = new URL("./producer-thread.js", import.meta.url);
  return opts.client === "librdkafka" ? inProcess(entry, setup) : inThread(entry, setup);
}

function inThread(entry: URL, setup: ThreadSetup): Runner {
  const worker = new Worker(entry, { workerData: setup });
  return {
    post: (m) => worker.postMessage(m),
    on: (event: string, listener: (arg: never) => void) =>
      worker.on(event, listener as (...args: unknown[]) => void),
    end: () => void worker.terminate(),
  };
}

/** A child process; it exits by itself when this process is gone (its IPC channel closes). */
function inProcess(entry: URL, setup: ThreadSetup): Runner {
  const child = fork(entry, [], { serialization: "advanced", stdio: "inherit" });
  child.send({ type: "setup", setup } satisfies ToThread);
  return {
    post: (m) => {
      if (child.connected) child.send(m);
    },
    on: (event: string, listener: (arg: never) => void) =>
      child.on(event, listener as (...args: unknown[]) => void),
    end: () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** The progress a history event shows, as runProducer counts it in its own thread. */
export function countEvent(progress: Progress, e: HistoryEvent): void {
  if (e.type === "invoke") {
    progress.sent += e.to - e.from + 1;
    return;
  }
  if (e.type !== "ok" && e.type !== "fail" && e.type !== "unknown") return;
  const n = e.to - e.from + 1;
  const unconfirmed = (e.unconfirmed?.seqs ?? []).reduce((sum, [a, b]) => sum + b - a + 1, 0);
  if (e.type === "ok") {
    progress.acked += n - unconfirmed;
    progress.unknown += unconfirmed;
  } else if (e.type === "fail") progress.failed += n;
  else progress.unknown += n;
}

/** The thread's error as the main thread throws it (a misconfiguration keeps its class). */
export function threadError(e: ThreadError): Error {
  if (e.kind !== undefined) {
    return new MisconfigurationError(e.kind, e.sends ?? 0, e.message, e.exitCode === 2);
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
