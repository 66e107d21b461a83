import fs from "node:fs";
import type { Message } from "@confluentinc/kafka-javascript";
import type { Connection } from "../clients/connection.js";
import {
  assignedConsumer,
  connect,
  consume,
  disconnect,
  partitionsOf,
} from "../clients/librdkafka.js";
import { identityOf } from "../identity/headers.js";
import { fieldsOf } from "./drain.js";

export interface TailOptions {
  /** The cluster itself, never the run's proxies. */
  bootstrap: string;
  connection?: Connection;
  runId: string;
  topic: string;
  /** JSON lines, appended: one `seen` line per partition per fetch with records of this run. */
  file: string;
  clock: () => number;
  /** How long start() waits for the connection before it returns anyway (default 5 s). */
  startWaitMs?: number;
  /** How long stop() waits for the consumer to close before it gives up on it (default 3 s). */
  stopWaitMs?: number;
}

export interface TailStats {
  /** Records of this run written to the file (a record read twice counts twice). */
  records: number;
  /** Records of other runs, skipped. */
  foreign: number;
  /** Connection and read errors and file errors: the tail never throws them. */
  errors: number;
  lastError?: string;
}

/** One `seen` line: the records of this run one fetch returned, as [offset, producer, seq]. */
export interface SeenLine {
  type: "seen";
  time: number;
  partition: number;
  records: [number, number, number][];
}

const RETRY_MS = 1000;

/**
 * Follows the run's input topic during the run (librdkafka, read_uncommitted, every partition
 * from the earliest offset, no group) and writes which ids it saw at which offsets: the evidence
 * for an acked write that was visible and later vanished when a leader change truncated the log.
 * librdkafka rides out broker kills and leader changes by itself; a tail that cannot connect
 * tries again until stop(). It never throws into the run and never commits.
 */
export class TailReader {
  private readonly out: fs.WriteStream;
  private readonly stats: TailStats = { records: 0, foreign: 0, errors: 0 };
  private loop?: Promise<void>;
  private stopping = false;
  private closed = false;

  private constructor(private readonly opts: TailOptions) {
    this.out = fs.createWriteStream(opts.file, { flags: "a" });
    this.out.on("error", (e) => {
      this.fail(e);
      this.closed = true;
    });
  }

  static async start(opts: TailOptions): Promise<TailReader> {
    const tail = new TailReader(opts);
    let timer: NodeJS.Timeout | undefined;
    let started: () => void = () => {};
    const ready = new Promise<void>((resolve) => (started = resolve));
    tail.loop = tail.follow(started);
    await Promise.race([
      ready,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.startWaitMs ?? 5000))),
    ]);
    clearTimeout(timer);
    return tail;
  }

  /** What the tail has read so far. */
  progress(): TailStats {
    return { ...this.stats };
  }

  /** Stops reading (bounded in time, even with a broker down or paused) and flushes the file. */
  async stop(): Promise<TailStats> {
    this.stopping = true;
    const wait = this.opts.stopWaitMs ?? 3000;
    await bounded(this.loop ?? Promise.resolve(), wait, () =>
      this.fail(new Error(`the tail consumer did not stop within ${wait} ms`)),
    );
    this.closed = true;
    await bounded(new Promise<void>((resolve) => this.out.end(resolve)), wait, () =>
      this.fail(new Error(`${this.opts.file} was not flushed within ${wait} ms`)),
    );
    return this.progress();
  }

  /** Connects (again, until stop()), assigns every partition and reads until stop(). */
  private async follow(started: () => void): Promise<void> {
    while (!this.stopping) {
      const consumer = assignedConsumer(this.opts.bootstrap, this.opts.connection, {
        "isolation.level": "read_uncommitted",
        "fetch.wait.max.ms": 200,
      });
      try {
        await connect(consumer, 5000);
        const partitions = await partitionsOf(consumer, this.opts.topic, 5000);
        consumer.assign(
          partitions.map((partition) => ({ topic: this.opts.topic, partition, offset: -2 })),
        );
        consumer.setDefaultConsumeTimeout(200);
        started();
        while (!this.stopping) this.record(await consume(consumer, 5000));
      } catch (e) {
        this.fail(e);
        if (!this.stopping) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      } finally {
        await disconnect(consumer).catch((e: unknown) => this.fail(e));
      }
    }
  }

  private record(messages: Message[]): void {
    if (this.closed || messages.length === 0) return;
    try {
      const byPartition = new Map<number, SeenLine["records"]>();
      for (const m of messages) {
        const { runId, producer, seq } = identityOf(fieldsOf(m));
        if (runId !== this.opts.runId) {
          this.stats.foreign += 1;
          continue;
        }
        const list = byPartition.get(m.partition) ?? [];
        list.push([m.offset, producer, seq]);
        byPartition.set(m.partition, list);
      }
      const time = this.opts.clock();
      for (const [partition, records] of byPartition) {
        this.stats.records += records.length;
        const line: SeenLine = { type: "seen", time, partition, records };
        this.out.write(`${JSON.stringify(line)}\n`);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.stats.errors += 1;
    this.stats.lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
}

/** Waits for `work`, but no longer than `ms`; `late` is called when it gave up. */
async function bounded(work: Promise<unknown>, ms: number, late: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    work.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms))),
  ]);
  clearTimeout(timer);
  if (timedOut) late();
}
