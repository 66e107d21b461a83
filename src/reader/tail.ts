import fs from "node:fs";
import kafkajs from "kafkajs";
import { identityOf } from "../identity/headers.js";

export interface TailOptions {
  /** A client straight to the cluster, never through the run's proxies. */
  kafka: kafkajs.Kafka;
  runId: string;
  topic: string;
  /** Under the run's prefix; never committed to, it only exists because kafkajs needs one. */
  groupId: string;
  /** JSON lines, appended: one `seen` line per fetched batch with records of this run. */
  file: string;
  clock: () => number;
  /** How long start() waits for the first join before it returns anyway (default 5 s). */
  startWaitMs?: number;
  /** How long stop() waits for the consumer to leave before it gives up on it (default 3 s). */
  stopWaitMs?: number;
}

export interface TailStats {
  /** Records of this run written to the file (a record read twice counts twice). */
  records: number;
  /** Records of other runs, skipped. */
  foreign: number;
  /** Consumer crashes, failed (re)starts and file errors: the tail never throws them. */
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

const RESPAWN_DELAY_MS = 1000;

/**
 * Follows the run's input topic during the run (read_uncommitted, from the earliest offset) and
 * writes which ids it saw at which offsets: the evidence for an acked write that was visible and
 * later vanished when a leader change truncated the log. It rides out broker kills and leader
 * changes (a consumer that runs out of retries is restarted, one that dies is replaced, until
 * stop()), never throws into the run and never commits offsets. A rejoin of the group goes on
 * from where the tail was, not from the earliest offset again. One write per fetched batch.
 */
export class TailReader {
  private readonly out: fs.WriteStream;
  private readonly stats: TailStats = { records: 0, foreign: 0, errors: 0 };
  /** The next offset to read per partition: where a consumer goes on after a rejoin. */
  private readonly next = new Map<number, number>();
  private consumer?: kafkajs.Consumer;
  private respawnTimer?: NodeJS.Timeout;
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
    await Promise.race([
      tail.spawn(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.startWaitMs ?? 5000))),
    ]);
    clearTimeout(timer);
    return tail;
  }

  /** What the tail has read so far. */
  progress(): TailStats {
    return { ...this.stats };
  }

  /** Leaves the group (bounded in time, even with a broker down or paused) and flushes the file. */
  async stop(): Promise<TailStats> {
    this.stopping = true;
    clearTimeout(this.respawnTimer);
    const consumer = this.consumer;
    this.consumer = undefined;
    const wait = this.opts.stopWaitMs ?? 3000;
    if (consumer) {
      await bounded(
        consumer.disconnect().catch((e: unknown) => this.fail(e)),
        wait,
        () => this.fail(new Error(`the tail consumer did not leave within ${wait} ms`)),
      );
    }
    this.closed = true;
    await bounded(new Promise<void>((resolve) => this.out.end(resolve)), wait, () =>
      this.fail(new Error(`${this.opts.file} was not flushed within ${wait} ms`)),
    );
    return this.progress();
  }

  private async spawn(): Promise<void> {
    if (this.stopping) return;
    const consumer = this.opts.kafka.consumer({
      groupId: this.opts.groupId,
      readUncommitted: true,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 500,
      // Faults make brokers vanish for longer than a retry budget: a consumer whose retries run
      // out is restarted by kafkajs until stop(), and one it gives up on is replaced here. The
      // budget itself stays finite so that a retry loop left running by a disconnect ends.
      retry: {
        retries: 10,
        initialRetryTime: 100,
        maxRetryTime: 1000,
        restartOnFailure: async () => !this.stopping,
      },
    });
    this.consumer = consumer;
    const { CRASH, GROUP_JOIN, END_BATCH_PROCESS } = consumer.events;
    consumer.on(CRASH, ({ payload }) => {
      this.fail(payload.error);
      if (!payload.restart) this.respawn(consumer);
    });
    // Nothing is committed, so a rejoined member would start again from the earliest offset.
    consumer.on(GROUP_JOIN, () => {
      for (const [partition, offset] of this.next) {
        try {
          consumer.seek({ topic: this.opts.topic, partition, offset: String(offset) });
        } catch (e) {
          this.fail(e);
        }
      }
    });
    // Also fired for a batch of only aborted records or markers, which never reaches eachBatch.
    consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      const p = payload as { partition: number; lastOffset: string };
      this.next.set(p.partition, Number(p.lastOffset) + 1);
    });
    try {
      await consumer.connect();
      if (this.stopping) return await consumer.disconnect();
      await consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
      if (this.stopping) return await consumer.disconnect();
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => this.record(batch),
      });
      // stop() came while the consumer was joining: it may not have stopped it
      if (this.stopping) await consumer.disconnect();
    } catch (e) {
      this.fail(e);
      this.respawn(consumer);
    }
  }

  /** Replaces a consumer that will not come back by itself. */
  private respawn(dead: kafkajs.Consumer): void {
    if (this.stopping || this.consumer !== dead) return;
    this.consumer = undefined;
    void dead.disconnect().catch(() => {});
    this.respawnTimer = setTimeout(() => void this.spawn(), RESPAWN_DELAY_MS);
  }

  private record(batch: kafkajs.Batch): void {
    if (this.closed) return;
    try {
      const records: SeenLine["records"] = [];
      for (const m of batch.messages) {
        const { runId, producer, seq } = identityOf(m);
        if (runId !== this.opts.runId) this.stats.foreign += 1;
        else records.push([Number(m.offset), producer, seq]);
      }
      if (records.length === 0) return;
      this.stats.records += records.length;
      const line: SeenLine = {
        type: "seen",
        time: this.opts.clock(),
        partition: batch.partition,
        records,
      };
      this.out.write(`${JSON.stringify(line)}\n`);
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
