/**
 * How the producer cuts its messages into batches and places them on partitions, and what a
 * produce response must show for a batch to count as acknowledged partition by partition.
 */
import kafkajs from "kafkajs";
import { UsageError } from "../errors.js";
import type { Unconfirmed } from "../history/events.js";

/**
 * Bytes a record takes beyond its payload, at most: key (k<n>), the three identity headers
 * (run id, producer, seq) and the record's own framing (varints, attributes). Measured at about
 * 100 bytes with kafkajs's encoder; 160 leaves room for longer run ids and seqs.
 */
export const RECORD_OVERHEAD = 160;

/** Room for the record batch header (61 bytes) and compression framing, rounded up. */
export const BATCH_OVERHEAD = 4096;

/** Upper bound of one record's encoded size. */
export function recordBytes(messageSize: number): number {
  return messageSize + RECORD_OVERHEAD;
}

/**
 * Messages per send: batchSize, fewer when that many would exceed batchBytes, never less than 1
 * (a message larger than batchBytes travels alone). Every message of a run has the same payload
 * size, so every full batch has the same count.
 */
export function messagesPerBatch(
  settings: { batchSize: number; batchBytes: number },
  messageSize: number,
): number {
  const byBytes = Math.floor(settings.batchBytes / recordBytes(messageSize));
  return Math.max(1, Math.min(settings.batchSize, byBytes));
}

/** Upper bound of the bytes of one send of the producer: what a topic and a request must hold. */
export function batchBytesOf(
  settings: { batchSize: number; batchBytes: number },
  messageSize: number,
): number {
  return messagesPerBatch(settings, messageSize) * recordBytes(messageSize) + BATCH_OVERHEAD;
}

/**
 * Where each message goes, decided by the producer rather than by the client so that it knows
 * which records a produce response must acknowledge. Keyed messages go where kafkajs's
 * DefaultPartitioner puts them (murmur2 of the key, as the Java client does); unkeyed messages
 * round-robin over the partitions, one message after the other.
 */
export class PartitionPlan {
  private readonly byKey: number[];

  constructor(
    readonly partitions: number,
    readonly keys: number,
    private readonly producerId = 0,
  ) {
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    this.byKey = Array.from({ length: keys }, (_, k) =>
      partitioner({ topic: "", partitionMetadata, message: { key: keyOf(k), value: null } }),
    );
  }

  key(seq: number): string | null {
    return this.keys > 0 ? keyOf(seq % this.keys) : null;
  }

  partitionOf(seq: number): number {
    if (this.keys > 0) return this.byKey[seq % this.keys] ?? 0;
    return (seq + this.producerId) % this.partitions;
  }

  /** The distinct partitions of the seqs from…to (inclusive), ascending. */
  partitionsOf(from: number, to: number): number[] {
    const seen = new Set<number>();
    for (let seq = from; seq <= to && seen.size < this.partitions; seq += 1) {
      seen.add(this.partitionOf(seq));
    }
    return [...seen].sort((a, b) => a - b);
  }

  /**
   * The records of from…to whose partition the response did not acknowledge, as seq ranges;
   * undefined when every partition was. `acked`: partitions with a base offset in the response.
   */
  unconfirmed(from: number, to: number, acked: ReadonlySet<number>): Unconfirmed | undefined {
    const partitions = this.partitionsOf(from, to).filter((p) => !acked.has(p));
    if (partitions.length === 0) return undefined;
    const missing = new Set(partitions);
    const seqs: [number, number][] = [];
    let start = -1;
    for (let seq = from; seq <= to + 1; seq += 1) {
      const out = seq <= to && missing.has(this.partitionOf(seq));
      if (out && start < 0) start = seq;
      if (!out && start >= 0) {
        seqs.push([start, seq - 1]);
        start = -1;
      }
    }
    return { partitions, seqs };
  }
}

function keyOf(k: number): string {
  return `k${k}`;
}

/** Partitions a produce response acknowledged: no error code and a base offset. */
export function ackedPartitions(
  meta: readonly { partition: number; errorCode?: number; baseOffset?: string }[],
): Set<number> {
  const acked = new Set<number>();
  for (const m of meta) {
    if ((m.errorCode ?? 0) !== 0 || m.baseOffset === undefined) continue;
    if (Number(m.baseOffset) < 0) continue;
    acked.add(m.partition);
  }
  return acked;
}

/** Room in a request for everything but the record batches (headers, topic and partition ids). */
export const REQUEST_OVERHEAD = 16_384;

/** The sizes a run's producer and processor send with, as the cluster must accept them. */
export interface RunSizes {
  /** max.message.bytes of the input topic: the producer's largest batch */
  input: number;
  /** max.message.bytes of the output topic: the processor's largest chunk (one send each) */
  output: number;
}

type SizedProfile = {
  producer: { batchSize: number; batchBytes: number };
  workload: { messageSize: number };
  processor: { batchSize: number };
};

export function runSizes(profile: SizedProfile): RunSizes {
  const { messageSize } = profile.workload;
  return {
    input: batchBytesOf(profile.producer, messageSize),
    output: processorChunk(profile) * recordBytes(messageSize) + BATCH_OVERHEAD,
  };
}

/**
 * Input records per processor chunk (one output send, one commit): processor.batchSize, fewer
 * when their output would exceed producer.batchBytes, so large messages need no tuning.
 */
export function processorChunk(profile: SizedProfile): number {
  const settings = {
    batchSize: profile.processor.batchSize,
    batchBytes: profile.producer.batchBytes,
  };
  return messagesPerBatch(settings, profile.workload.messageSize);
}

/** The largest messageSize a cluster accepting `requestBytes` per request can take. */
export function largestMessageSize(requestBytes: number): number {
  return Math.max(0, requestBytes - REQUEST_OVERHEAD - BATCH_OVERHEAD - RECORD_OVERHEAD);
}

/**
 * Refuses a profile whose sends cannot fit in one request of the cluster, naming the setting
 * and the limit; returns the run's sizes otherwise. `output`: the run has an output topic.
 */
export function checkSizes(
  profile: SizedProfile,
  limit: { bytes: number; source: string },
  output: boolean,
): RunSizes {
  const sizes = runSizes(profile);
  const fits = (bytes: number) => bytes + REQUEST_OVERHEAD <= limit.bytes;
  const where = `socket.request.max.bytes = ${limit.bytes} (${limit.source})`;
  const { messageSize } = profile.workload;
  const largest = largestMessageSize(limit.bytes);
  if (messageSize > largest) {
    throw new UsageError(
      `workload.messageSize: ${messageSize} bytes is more than the cluster accepts in one request, ${where}; the largest messageSize it takes is ${largest}`,
    );
  }
  if (!fits(sizes.input)) {
    throw new UsageError(
      `producer.batchBytes: batches of up to ${sizes.input} bytes do not fit in one request, ${where}; lower producer.batchBytes`,
    );
  }
  if (output && !fits(sizes.output)) {
    const most = Math.max(
      1,
      Math.floor((limit.bytes - REQUEST_OVERHEAD - BATCH_OVERHEAD) / recordBytes(messageSize)),
    );
    throw new UsageError(
      `processor.batchSize: ${processorChunk(profile)} records of ${messageSize} bytes make a send of ${sizes.output} bytes, more than one request holds, ${where}; lower processor.batchSize to ${most} or less`,
    );
  }
  return sizes;
}
