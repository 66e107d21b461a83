/**
 * The seam between the processor's logic (commit modes, chunks, crash points, history) and the
 * client library that talks to Kafka. One small module per library implements it.
 */

/** A consumed input record. */
export interface InputRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
  offset: string;
}

/** A record the processor writes to the output topic. */
export interface OutputRecord {
  key: Buffer | string | null;
  value: Buffer | null;
  partition: number;
  headers: Record<string, string>;
}

/** Where a send's records landed: per partition, the base offset when the client said. */
export interface Written {
  partition: number;
  baseOffset?: string;
}

/** What a client's send resolved with, as partitions and their base offsets where known. */
export function writtenOf(meta: { partition: number; baseOffset?: string | null }[]): Written[] {
  return meta.map((m) => ({
    partition: m.partition,
    ...(m.baseOffset === undefined || m.baseOffset === null ? {} : { baseOffset: m.baseOffset }),
  }));
}

/** One fetched batch of one partition and the calls the logic may make while handling it. */
export interface BatchControl {
  partition: number;
  messages: InputRecord[];
  /** this offset is handled: a commit goes past it */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  /** the batch was overtaken by a rebalance or seek */
  isStale(): boolean;
}

export interface ConsumerHandlers {
  /** The member joined (or rejoined) the group and got these partitions of the input topic. */
  onJoin(partitions: number[]): void;
  eachBatch(batch: BatchControl): Promise<void>;
  /** A batch was fetched and handled (also one the client filtered down to nothing). */
  onBatchEnd(partition: number, lastOffset: number): void;
  /** The consumer gave up and will not come back by itself. */
  onCrash(error: unknown): void;
}

export interface EngineTransaction {
  send(topic: string, records: OutputRecord[]): Promise<Written[]>;
  /** The consumed offset (the next to read) of the input partition, in the transaction. */
  sendOffsets(topic: string, partition: number, offset: string): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface EngineProducer {
  /** acks=all; resolves once every record is acknowledged */
  send(topic: string, records: OutputRecord[]): Promise<Written[]>;
  transaction(): Promise<EngineTransaction>;
  disconnect(): Promise<void>;
}

export interface ProcessorEngine {
  /** the library's name and version, as reports label what it did */
  readonly name: string;
  /** Connects, subscribes to the input topic from the earliest offset and consumes. */
  run(handlers: ConsumerHandlers): Promise<void>;
  commitOffset(partition: number, offset: string): Promise<void>;
  seek(partition: number, offset: number): void;
  /**
   * A connected producer; transactional ones are registered at once (fencing an older
   * producer of the same transactional id and finishing its open transaction).
   */
  producer(transactional: boolean): Promise<EngineProducer>;
  disconnect(): Promise<void>;
}

/** Who the processor is and how it consumes, as an engine needs to know. */
export interface EngineSettings {
  clientId: string;
  /** the addresses to bootstrap at: the run's proxies, or the cluster */
  brokers: string[];
  inputTopic: string;
  groupId: string;
  transactionalId: string;
  requestTimeoutMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  readCommitted: boolean;
  /** commit: auto, every this many ms; null: the logic commits */
  autoCommitIntervalMs: number | null;
  /** records per fetched batch the logic handles at most (librdkafka cuts batches itself) */
  batchSize: number;
}
