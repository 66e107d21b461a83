import kafkajs from "kafkajs";
import { mulberry32 } from "../faults/schedule.js";
import type { ProcessedEvent } from "../history/events.js";
import { HistoryWriter } from "../history/writer.js";
import type { Profile } from "../profiles/schema.js";
import { initTransactions, kafkaClient, type Route } from "./client.js";
import { HEADER_PRODUCER, HEADER_RUN, HEADER_SEQ } from "./headers.js";
import { errorText } from "./producer.js";

/** Everything a worker process needs; passed as JSON by the pool. */
export interface WorkerConfig {
  /** "<slot>.<incarnation>" */
  worker: string;
  slot: number;
  runId: string;
  brokers: string[];
  route: [string, { host: string; port: number }][];
  inputTopic: string;
  outputTopic: string;
  groupId: string;
  transactionalId: string;
  settings: Profile["processor"];
  requestTimeoutMs: number;
  historyFile: string;
  /** epoch ms the run started, so history times line up with the run's */
  runStartedAt: number;
  /** crash this incarnation with SIGKILL at `point` once it has processed `after` messages */
  crash?: { point: string; after: number };
  seed: number;
}

/** Messages a worker sends its pool over IPC. */
export type WorkerMessage =
  | { type: "joined" }
  | { type: "batch"; partition: number; lastOffset: number; processed: number }
  | { type: "fatal"; error: string };

/** Exit code of a worker that stopped itself after an error it cannot recover from in place. */
export const EXIT_RESTART = 75;

type Chunk = kafkajs.KafkaMessage[];

/**
 * The application under test: consume from the input topic, "process" each record by writing it
 * (same identity headers) to the output topic, and commit input offsets as the profile says —
 * before processing, after it, automatically, or inside a transaction with the output.
 */
export class Processor {
  private readonly kafka: kafkajs.Kafka;
  private readonly consumer: kafkajs.Consumer;
  private producer?: kafkajs.Producer;
  private readonly random: () => number;
  private processed = 0;

  constructor(
    private readonly config: WorkerConfig,
    private readonly history: HistoryWriter,
    private readonly send: (m: WorkerMessage) => void,
  ) {
    const s = config.settings;
    this.kafka = kafkaClient({
      clientId: `${config.groupId}-${config.worker}`,
      brokers: config.brokers,
      route: new Map(config.route) as Route,
      requestTimeoutMs: config.requestTimeoutMs,
      retries: 10,
    });
    this.consumer = this.kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      readUncommitted: s.isolation === "read_uncommitted",
      maxWaitTimeInMs: 250,
      retry: { retries: 10 },
    });
    this.random = mulberry32(config.seed);
  }

  async start(): Promise<void> {
    const { consumer, config } = this;
    consumer.on(consumer.events.GROUP_JOIN, () => this.send({ type: "joined" }));
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const p = payload as { partition: number; lastOffset: string };
      this.send({
        type: "batch",
        partition: p.partition,
        lastOffset: Number(p.lastOffset),
        processed: this.processed,
      });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const p = payload as { error: unknown; restart: boolean };
      if (!p.restart) this.fail(p.error);
    });
    await this.producerReady();
    await consumer.connect();
    await consumer.subscribe({ topic: config.inputTopic, fromBeginning: true });
    const auto = config.settings.commit === "auto";
    await consumer.run({
      autoCommit: auto,
      autoCommitInterval: auto ? config.settings.autoCommitIntervalMs : null,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.history.close();
  }

  private async eachBatch(payload: kafkajs.EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
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
        this.crashPoint("after-commit-before-process", chunk.length);
        await this.recorded(partition, chunk, await this.write(partition, chunk));
        return;
      case "after":
        await this.recorded(partition, chunk, await this.write(partition, chunk));
        this.crashPoint("after-process-before-commit", chunk.length);
        await this.commit(partition, chunk);
        return;
      case "auto":
        await this.recorded(partition, chunk, await this.write(partition, chunk));
        this.crashPoint("after-process-before-commit", chunk.length);
        return;
      case "transaction":
        await this.transact(partition, chunk);
        return;
    }
  }

  /** Plain (non-transactional) output write; an error leaves the outcome unknown. */
  private async write(partition: number, chunk: Chunk): Promise<Outcome> {
    try {
      const producer = await this.producerReady();
      const meta = await producer.send({
        topic: this.config.outputTopic,
        acks: -1,
        messages: outputMessages(partition, chunk, this.config.worker),
      });
      return { outcome: "ok", output: outputRanges(meta, chunk.length) };
    } catch (err) {
      return { outcome: "unknown", error: errorText(err) };
    }
  }

  /**
   * Output and input offsets in one transaction. An aborted chunk (on purpose, by abortRate) is
   * retried at once; any error makes the worker exit so it restarts from the committed offsets —
   * retrying in place after an unknown commit could write the chunk twice.
   */
  private async transact(partition: number, chunk: Chunk): Promise<void> {
    for (;;) {
      const producer = await this.producerReady();
      const tx = await producer.transaction();
      let output: ProcessedEvent["output"];
      try {
        const meta = await tx.send({
          topic: this.config.outputTopic,
          messages: outputMessages(partition, chunk, this.config.worker),
        });
        output = outputRanges(meta, chunk.length);
        this.crashPoint("mid-transaction", chunk.length);
        if (this.random() < this.config.settings.abortRate) {
          await tx.abort();
          await this.recorded(partition, chunk, { outcome: "aborted", output });
          continue;
        }
        await tx.sendOffsets({
          consumerGroupId: this.config.groupId,
          topics: [{ topic: this.config.inputTopic, partitions: [nextOffset(partition, chunk)] }],
        });
        await tx.commit();
      } catch (err) {
        const aborted = await tx.abort().then(
          () => true,
          () => false,
        );
        const outcome = aborted ? "aborted" : "unknown";
        await this.recorded(partition, chunk, { outcome, output, error: errorText(err) });
        this.fail(err);
      }
      await this.recorded(partition, chunk, { outcome: "ok", output });
      return;
    }
  }

  private async commit(partition: number, chunk: Chunk): Promise<void> {
    try {
      await this.consumer.commitOffsets([
        { topic: this.config.inputTopic, ...nextOffset(partition, chunk) },
      ]);
    } catch (err) {
      this.fail(err);
    }
  }

  /** The chunk's outcome goes to disk before anything that follows it (commit, next chunk). */
  private async recorded(partition: number, chunk: Chunk, result: Outcome): Promise<void> {
    const items: [number, number][] = chunk.map(identity);
    this.history.append({
      type: "processed",
      worker: this.config.worker,
      partition,
      fromOffset: Number(chunk[0]!.offset),
      toOffset: Number(chunk[chunk.length - 1]!.offset),
      items,
      outcome: result.outcome,
      ...(result.output ? { output: result.output } : {}),
      time: Date.now() - this.config.runStartedAt,
    });
    await this.history.flush();
    if (result.outcome === "ok") this.processed += chunk.length;
    if (result.outcome === "unknown" && this.config.settings.commit !== "transaction") {
      // As a real consumer would: the write failed, so do not move on; restart from the commit.
      this.fail(new Error(result.error ?? "output write failed"));
    }
  }

  private crashPoint(point: string, chunkSize: number): void {
    const crash = this.config.crash;
    if (!crash || crash.point !== point) return;
    if (this.processed + chunkSize >= crash.after) process.kill(process.pid, "SIGKILL");
  }

  private async producerReady(): Promise<kafkajs.Producer> {
    if (this.producer) return this.producer;
    const transactional = this.config.settings.commit === "transaction";
    const producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: transactional,
      maxInFlightRequests: transactional ? 1 : 5,
      ...(transactional ? { transactionalId: this.config.transactionalId } : {}),
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    await producer.connect();
    if (transactional) await initTransactions(producer);
    this.producer = producer;
    return producer;
  }

  private fail(err: unknown): never {
    this.send({ type: "fatal", error: errorText(err) });
    this.history.flushSync();
    process.exit(EXIT_RESTART);
  }
}

interface Outcome {
  outcome: ProcessedEvent["outcome"];
  output?: ProcessedEvent["output"];
  error?: string;
}

function identity(m: kafkajs.KafkaMessage): [number, number] {
  const h = m.headers ?? {};
  return [Number(String(h[HEADER_PRODUCER] ?? "-1")), Number(String(h[HEADER_SEQ] ?? "-1"))];
}

/** The output record keeps the input's identity; it goes to the same partition number. */
function outputMessages(partition: number, chunk: Chunk, worker: string): kafkajs.Message[] {
  return chunk.map((m) => ({
    key: m.key,
    value: m.value,
    partition,
    headers: {
      [HEADER_RUN]: String(m.headers?.[HEADER_RUN] ?? ""),
      [HEADER_PRODUCER]: String(m.headers?.[HEADER_PRODUCER] ?? ""),
      [HEADER_SEQ]: String(m.headers?.[HEADER_SEQ] ?? ""),
      "kc-worker": worker,
    },
  }));
}

function outputRanges(
  meta: kafkajs.RecordMetadata[],
  count: number,
): Record<string, [number, number]> | undefined {
  const first = meta[0];
  if (!first || first.baseOffset === undefined) return undefined;
  return { [first.partition]: [Number(first.baseOffset), count] };
}

function nextOffset(partition: number, chunk: Chunk): { partition: number; offset: string } {
  return { partition, offset: String(Number(chunk[chunk.length - 1]!.offset) + 1) };
}
