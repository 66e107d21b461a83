import { mulberry32 } from "../random.js";
import type { ProcessedEvent } from "../history/events.js";
import { HistoryWriter } from "../history/writer.js";
import type { BatchControl, EngineProducer, InputRecord, ProcessorEngine } from "./engine.js";
import { engineOf, EXIT_RESTART, type WorkerConfig, type WorkerMessage } from "./config.js";
import {
  identityPair,
  nextOffset,
  outputMessages,
  outputRanges,
  sinkLocated,
  sinkRow,
} from "./records.js";
import { errorText } from "../errors.js";
import { openSink, type Sink } from "../sinks/index.js";

export { EXIT_RESTART, type WorkerConfig, type WorkerMessage } from "./config.js";

type Chunk = InputRecord[];

/** Where a crash after the write and before the offset commit is placed (either name). */
const AFTER_WRITE = ["after-process-before-commit", "after-sink-write-before-commit"];

/**
 * The application under test: consume from the input topic, "process" each record by writing it
 * (same identity headers) to the output topic — or as a row to the external sink — and commit
 * input offsets as the profile says: before processing, after it, automatically, or inside a
 * transaction with the output. An atomic sink also stores the offsets in its own transaction
 * and the worker resumes from those.
 */
export class Processor {
  private readonly engine: ProcessorEngine;
  private producer?: EngineProducer;
  private sink?: Sink;
  private readonly random: () => number;
  private processed = 0;
  /** transactions begun by this incarnation (commit: transaction) */
  private txn = 0;

  constructor(
    private readonly config: WorkerConfig,
    private readonly history: HistoryWriter,
    private readonly send: (m: WorkerMessage) => void,
  ) {
    this.engine = engineOf(config);
    this.random = mulberry32(config.seed);
  }

  async start(): Promise<void> {
    const { config } = this;
    if (config.sink) this.sink = await openSink(sinkLocated(config.sink));
    else await this.producerReady();
    await this.engine.run({
      onJoin: (partitions) => {
        this.send({ type: "joined" });
        if (config.sink?.mode === "atomic") void this.seekToStored(partitions);
      },
      onBatchEnd: (partition, lastOffset) =>
        this.send({ type: "batch", partition, lastOffset, processed: this.processed }),
      onCrash: (error) => this.fail(error, "consumer (crashed, no restart)"),
      eachBatch: (batch) => this.eachBatch(batch),
    });
  }

  async stop(): Promise<void> {
    await this.engine.disconnect();
    await this.sink?.close();
    await this.history.close();
  }

  private async eachBatch(batch: BatchControl): Promise<void> {
    if (this.config.settings.commit === "transaction") return this.eachBatchInTransactions(batch);
    const { resolveOffset, heartbeat, isRunning, isStale } = batch;
    const size = this.config.settings.batchSize;
    for (let i = 0; i < batch.messages.length; i += size) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(i, i + size);
      await this.handle(batch.partition, chunk);
      resolveOffset(chunk[chunk.length - 1]!.offset);
      await heartbeat();
    }
  }

  private async handle(partition: number, chunk: Chunk): Promise<void> {
    switch (this.config.settings.commit) {
      case "before":
        await this.commit(partition, chunk);
        this.crashPoint(["after-commit-before-process"], chunk.length);
        await this.recorded(partition, chunk, await this.write(partition, chunk));
        return;
      case "after":
        await this.recorded(partition, chunk, await this.write(partition, chunk));
        this.crashPoint(AFTER_WRITE, chunk.length);
        await this.commit(partition, chunk);
        return;
      case "auto":
        await this.recorded(partition, chunk, await this.write(partition, chunk));
        this.crashPoint(AFTER_WRITE, chunk.length);
        return;
      case "transaction":
        throw new Error("commit: transaction goes through eachBatchInTransactions");
    }
  }

  /**
   * commit: transaction. The fetched batch's chunks go into one transaction until it has been
   * open commitIntervalMs or the batch runs out (as Kafka Streams commits every
   * commit.interval.ms); then the input offsets go in and it commits.
   */
  private async eachBatchInTransactions(batch: BatchControl): Promise<void> {
    const { resolveOffset, heartbeat, isRunning, isStale } = batch;
    const { batchSize: size, commitIntervalMs } = this.config.settings;
    let i = 0;
    while (i < batch.messages.length) {
      if (!isRunning() || isStale()) return;
      const chunks: Chunk[] = [];
      const openedAt = Date.now();
      const next = (): Chunk | undefined => {
        if (i >= batch.messages.length || !isRunning() || isStale()) return undefined;
        if (chunks.length > 0 && Date.now() - openedAt >= commitIntervalMs) return undefined;
        const chunk = batch.messages.slice(i, i + size);
        i += size;
        chunks.push(chunk);
        return chunk;
      };
      await this.transact(batch.partition, chunks, next, heartbeat);
      const last = chunks[chunks.length - 1];
      if (last) resolveOffset(last[last.length - 1]!.offset);
      await heartbeat();
    }
  }

  /** Non-transactional write to the sink or the output topic; an error leaves it unknown. */
  private write(partition: number, chunk: Chunk): Promise<Outcome> {
    return this.sink
      ? this.writeSink(this.sink, partition, chunk)
      : this.writeTopic(partition, chunk);
  }

  /** The chunk's rows in one DB transaction; the crash point mid-db-transaction is inside it. */
  private async writeSink(sink: Sink, partition: number, chunk: Chunk): Promise<Outcome> {
    try {
      const rows = chunk.map((m) => sinkRow(partition, m, this.config.worker));
      const written = await sink.write(partition, rows, () =>
        this.crashPoint(["mid-db-transaction"], chunk.length),
      );
      return { outcome: "ok", items: written.map((r) => [r.producer, r.seq]) };
    } catch (err) {
      return { outcome: "unknown", error: errorText(err) };
    }
  }

  private async writeTopic(partition: number, chunk: Chunk): Promise<Outcome> {
    try {
      const producer = await this.producerReady();
      const meta = await producer.send(
        this.outputTopic(),
        outputMessages(partition, chunk, this.config.worker),
      );
      return { outcome: "ok", output: outputRanges(meta, chunk.length) };
    } catch (err) {
      return { outcome: "unknown", error: errorText(err) };
    }
  }

  /**
   * Output and input offsets in one transaction: `chunks`, then those `next` gives while the
   * transaction is open. Each chunk gets its processed event once the transaction's fate is
   * known. An aborted transaction (on purpose, by abortRate) is retried at once with the same
   * chunks; any error makes the worker exit so it restarts from the committed offsets —
   * retrying in place after an unknown commit could write the chunks twice.
   */
  private async transact(
    partition: number,
    chunks: Chunk[],
    next: () => Chunk | undefined,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    let more = next;
    for (;;) {
      const producer = await this.producerReady();
      const tx = await producer.transaction();
      const txn = this.txn++;
      const outputs: ProcessedEvent["output"][] = [];
      let pending = 0;
      let step = "transaction send";
      const sendChunk = async (chunk: Chunk) => {
        step = "transaction send";
        const meta = await tx.send(
          this.outputTopic(),
          outputMessages(partition, chunk, this.config.worker),
        );
        outputs.push(outputRanges(meta, chunk.length));
        pending += chunk.length;
        this.crashPoint(["mid-transaction"], pending);
      };
      try {
        for (const chunk of chunks) await sendChunk(chunk);
        for (let chunk = more(); chunk; chunk = more()) {
          await sendChunk(chunk);
          step = "heartbeat";
          await heartbeat();
        }
        if (chunks.length === 0) {
          await tx.abort(); // stale before its first chunk: nothing was sent in it
          return;
        }
        if (this.random() < this.config.settings.abortRate) {
          await tx.abort();
          await this.recordedAll(partition, chunks, outputs, { outcome: "aborted" }, txn);
          more = () => undefined;
          continue;
        }
        step = "transaction sendOffsets";
        const last = chunks[chunks.length - 1]!;
        await tx.sendOffsets(this.config.inputTopic, partition, nextOffset(last));
        step = "transaction commit";
        await tx.commit();
      } catch (err) {
        const aborted = await tx.abort().then(
          () => true,
          () => false,
        );
        const outcome = aborted ? "aborted" : "unknown";
        await this.recordedAll(partition, chunks, outputs, { outcome, error: errorText(err) }, txn);
        // A rebalance seen at a heartbeat, its transaction aborted: nothing is in doubt, and the
        // client rejoins the group by itself when the batch handler throws.
        if (aborted && step === "heartbeat") throw err;
        this.fail(err, step);
      }
      await this.recordedAll(partition, chunks, outputs, { outcome: "ok" }, txn);
      return;
    }
  }

  /** The transaction's chunks, one processed event each, flushed once. */
  private async recordedAll(
    partition: number,
    chunks: Chunk[],
    outputs: ProcessedEvent["output"][],
    result: Omit<Outcome, "output">,
    txn: number,
  ): Promise<void> {
    for (const [k, chunk] of chunks.entries()) {
      const output = outputs[k];
      this.note(partition, chunk, { ...result, ...(output ? { output } : {}) }, txn);
    }
    await this.history.flush();
  }

  private async commit(partition: number, chunk: Chunk): Promise<void> {
    try {
      await this.engine.commitOffset(partition, nextOffset(chunk));
    } catch (err) {
      this.fail(err, "commitOffsets");
    }
  }

  /**
   * atomic sink: resume each assigned partition from the offset stored with the rows, not the
   * group's committed offset. (The sink's write also skips rows below it: a fetch already
   * under way when the seek lands is not written twice.)
   */
  private async seekToStored(partitions: number[]): Promise<void> {
    try {
      const stored = await this.sink!.storedOffsets();
      for (const partition of partitions) {
        const offset = stored.get(partition);
        if (offset !== undefined) this.engine.seek(partition, offset);
      }
    } catch (err) {
      this.fail(err, "seek to the sink's stored offsets");
    }
  }

  /** The chunk's outcome goes to disk before anything that follows it (commit, next chunk). */
  private async recorded(partition: number, chunk: Chunk, result: Outcome): Promise<void> {
    this.note(partition, chunk, result);
    await this.history.flush();
    if (result.outcome === "unknown" && this.config.settings.commit !== "transaction") {
      // As a real consumer would: the write failed, so do not move on; restart from the commit.
      this.fail(new Error(result.error ?? "output write failed"), "output write");
    }
  }

  /** Appends the chunk's processed event (not flushed) and counts what took effect. */
  private note(partition: number, chunk: Chunk, result: Outcome, txn?: number): void {
    const items: [number, number][] = result.items ?? chunk.map(identityPair);
    const from = Number(chunk[0]!.offset);
    const to = Number(chunk[chunk.length - 1]!.offset);
    this.history.append({
      type: "processed",
      worker: this.config.worker,
      partition,
      fromOffset: from,
      toOffset: to,
      items,
      ...(to - from + 1 === chunk.length ? {} : { offsets: chunk.map((m) => Number(m.offset)) }),
      outcome: result.outcome,
      ...(result.output ? { output: result.output } : {}),
      ...(txn === undefined ? {} : { txn }),
      time: Date.now() - this.config.runStartedAt,
    });
    if (result.outcome === "ok") this.processed += items.length;
  }

  private crashPoint(points: string[], chunkSize: number): void {
    const crash = this.config.crash;
    if (!crash || !points.includes(crash.point)) return;
    if (this.processed + chunkSize >= crash.after) process.kill(process.pid, "SIGKILL");
  }

  private async producerReady(): Promise<EngineProducer> {
    this.producer ??= await this.engine.producer(this.config.settings.commit === "transaction");
    return this.producer;
  }

  private outputTopic(): string {
    if (!this.config.outputTopic)
      throw new Error("no output topic: this processor writes to a sink");
    return this.config.outputTopic;
  }

  /** Stops the worker on an error: recorded with the call that raised it, then exit 75. */
  private fail(err: unknown, call: string): never {
    const error = errorText(err);
    this.send({ type: "fatal", error });
    this.history.append({
      type: "worker",
      phase: "fatal",
      worker: this.config.worker,
      error,
      call,
      time: Date.now() - this.config.runStartedAt,
    });
    this.history.flushSync();
    console.error(`worker ${this.config.worker}: ${call}:`, err);
    process.exit(EXIT_RESTART);
  }
}

interface Outcome {
  outcome: ProcessedEvent["outcome"];
  output?: ProcessedEvent["output"];
  /** the identities that took effect, when not the whole chunk (an atomic sink's skips) */
  items?: [number, number][];
  error?: string;
}
