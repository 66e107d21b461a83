/**
 * Entry point of a producer's worker thread or child process (workload.producerThreads): one
 * producer with its own client, on another core. Its history events go to the run's history
 * through the main thread (see producer-threads.ts); an invoke is on disk before its send, as in
 * the main thread. A child process gets its setup as its first message, and exits when its
 * parent is gone.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { HistoryEvent } from "../history/events.js";
import type { HistoryWriter } from "../history/writer.js";
import { kafkaClient } from "../clients/kafkajs.js";
import { runProducer } from "./producer.js";
import type { Fate, InDoubt } from "../reader/fate.js";
import type { FromThread, ThreadSetup, ToThread } from "./producer-threads.js";

const port = parentPort ?? {
  postMessage: (m: FromThread) => process.send?.(m),
  on: (event: "message", listener: (m: ToThread) => void) => process.on(event, listener),
};
const post = (m: FromThread) => port.postMessage(m);
if (!parentPort) {
  process.on("disconnect", () => process.exit(0));
  // A terminal's Ctrl-C reaches the whole process group: the CLI decides, then says stop.
  process.on("SIGINT", () => {});
}
const setup = parentPort ? (workerData as ThreadSetup) : await setupMessage();

function setupMessage(): Promise<ThreadSetup> {
  return new Promise((resolve) => {
    const first = (m: ToThread) => {
      if (m.type !== "setup") return;
      process.off("message", first);
      resolve(m.setup);
    };
    process.on("message", first);
  });
}

let pending: HistoryEvent[] = [];
let nextId = 0;
const waiting = new Map<number, (value: unknown) => void>();
const stop = new AbortController();

port.on("message", (m: ToThread) => {
  if (m.type === "setup") return;
  if (m.type === "stop") return stop.abort();
  const answer = waiting.get(m.id);
  waiting.delete(m.id);
  answer?.(m.type === "fate" ? m.fate : undefined);
});

/** Sends `m` with a fresh id and waits for the main thread's answer to it. */
function ask<T>(make: (id: number) => FromThread): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve) => {
    waiting.set(id, resolve as (value: unknown) => void);
    post(make(id));
  });
}

/**
 * The run's history, written by the main thread. An outcome is passed on at once (the run's
 * progress and stall watch see it as soon as in the main thread); an invoke at the flush that
 * follows it, which waits until the main thread has it on disk.
 */
const history = {
  append: (event: HistoryEvent) => {
    pending.push(event);
    if (event.type !== "invoke") post({ type: "events", id: -1, events: take() });
  },
  flush: () => {
    const events = take();
    return ask<void>((id) => ({ type: "events", id, events }));
  },
} as unknown as HistoryWriter;

function take(): HistoryEvent[] {
  const events = pending;
  pending = [];
  return events;
}

async function main(): Promise<void> {
  const kafka = kafkaClient({ ...setup.client, route: new Map(setup.client.route) });
  const progress = { sent: 0, acked: 0, failed: 0, unknown: 0 };
  try {
    await runProducer({
      ...setup.producer,
      kafka,
      history,
      clock: () => Date.now() - setup.t0,
      progress,
      signal: stop.signal,
      ...(setup.resolves
        ? { resolveInDoubt: (doubt: InDoubt) => ask<Fate>((id) => ({ type: "doubt", id, doubt })) }
        : {}),
    });
  } finally {
    await history.flush();
  }
}

main().then(
  () => post({ type: "done" }),
  (err: unknown) => {
    const e = err as { name?: string; message?: string; kind?: string; sends?: number };
    const exitCode = (err as { exitCode?: number }).exitCode;
    post({
      type: "error",
      error: {
        name: e.name ?? "Error",
        message: e.message ?? String(err),
        ...(e.kind === undefined ? {} : { kind: e.kind, sends: e.sends ?? 0 }),
        ...(exitCode === undefined ? {} : { exitCode }),
      },
    });
  },
);
