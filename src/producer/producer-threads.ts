/**
 * Producers in worker threads (workload.producerThreads): each producer runs runProducer in its
 * own thread with its own kafkajs client, so a run's producers use more than one core — kafkajs's
 * encoding is nearly all of a producer's CPU. The main thread keeps the one history writer: a
 * thread's events reach it at each flush (before every send, so an invoke is on disk before any
 * byte of its batch can reach the broker), and the run's progress is counted from them.
 */
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

/** Main thread → thread: the answer to a message with that id, or stop. */
export type ToThread =
  { type: "flushed"; id: number } | { type: "fate"; id: number; fate: Fate } | { type: "stop" };

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
  const workers: Worker[] = [];
  let failure: unknown;
  const stopAll = () => {
    for (const w of workers) w.postMessage({ type: "stop" } satisfies ToThread);
    const timer = setTimeout(() => {
      for (const w of workers) void w.terminate();
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
            if (opts.signal.aborted) worker.postMessage({ type: "stop" } satisfies ToThread);
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
                  if (m.id >= 0)
                    worker.postMessage({ type: "flushed", id: m.id } satisfies ToThread);
                }, fail);
              } else if (m.type === "doubt") {
                const resolveInDoubt = opts.resolveInDoubt ?? (async () => undefined);
                void resolveInDoubt(m.doubt)
                  .catch(() => undefined)
                  .then((fate) =>
                    worker.postMessage({ type: "fate", id: m.id, fate } satisfies ToThread),
                  );
              } else {
                // Done (or failed): its last events are written; the thread may go.
                if (m.type === "error") fail(threadError(m.error));
                void worker.terminate();
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

function start(opts: ProducerOptions, client: ClientOptions): Worker {
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
    },
    t0: Date.now() - opts.clock(),
    resolves: opts.resolveInDoubt !== undefined,
  };
  return new Worker(new URL("./producer-thread.js", import.meta.url), { workerData: setup });
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
