import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import {
  ackedPartitions,
  checkSizes,
  largestMessageSize,
  messagesPerBatch,
  PartitionPlan,
  processorChunk,
  RECORD_OVERHEAD,
  runSizes,
} from "./batches.js";

describe("batches by count and by bytes", () => {
  it("closes a batch at batchSize messages or before it would exceed batchBytes", () => {
    const settings = { batchSize: 100, batchBytes: 1_048_576 };
    expect(messagesPerBatch(settings, 100)).toBe(100);
    // 100 KB messages: ten fit in 1 MiB, not a hundred.
    expect(messagesPerBatch(settings, 100_000)).toBe(10);
    expect(messagesPerBatch(settings, 100_000) * (100_000 + RECORD_OVERHEAD)).toBeLessThanOrEqual(
      settings.batchBytes,
    );
    // A message larger than batchBytes travels alone.
    expect(messagesPerBatch(settings, 5_000_000)).toBe(1);
    expect(messagesPerBatch({ batchSize: 1, batchBytes: 1_048_576 }, 10)).toBe(1);
  });
});

describe("partitions chosen by the producer", () => {
  it("puts a keyed message where kafkajs's DefaultPartitioner (murmur2) would", () => {
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 7]) {
      const plan = new PartitionPlan(partitions, 16);
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 1,
        replicas: [1],
        isr: [1],
      }));
      for (let seq = 0; seq < 64; seq += 1) {
        const key = `k${seq % 16}`;
        expect(plan.key(seq)).toBe(key);
        const expected = partitioner({
          topic: "t",
          partitionMetadata,
          message: { key, value: "" },
        });
        expect(plan.partitionOf(seq)).toBe(expected);
      }
    }
  });

  it("round-robins unkeyed messages over the partitions, deterministically", () => {
    const plan = new PartitionPlan(3, 0, 1);
    expect(plan.key(5)).toBeNull();
    expect([0, 1, 2, 3, 4].map((s) => plan.partitionOf(s))).toEqual([1, 2, 0, 1, 2]);
    expect(plan.partitionsOf(0, 0)).toEqual([1]);
    expect(plan.partitionsOf(0, 10)).toEqual([0, 1, 2]);
  });
});

describe("an ok backed by the broker, partition by partition", () => {
  const plan = new PartitionPlan(3, 0); // seq s goes to partition s % 3

  it("acknowledged partitions have a base offset and no error code", () => {
    const acked = ackedPartitions([
      { partition: 0, errorCode: 0, baseOffset: "10" },
      { partition: 1, errorCode: 0 },
      { partition: 2, errorCode: 6, baseOffset: "-1" },
      { partition: 4, errorCode: 0, baseOffset: "-1" },
    ]);
    expect([...acked]).toEqual([0]);
  });

  it("nothing is unconfirmed when every partition of the batch was acknowledged", () => {
    expect(plan.unconfirmed(0, 8, new Set([0, 1, 2]))).toBeUndefined();
    // Partitions the batch did not touch need no acknowledgement.
    expect(plan.unconfirmed(3, 3, new Set([0]))).toBeUndefined();
  });

  it("marks the seqs of an unacknowledged partition as ranges, and names the partition", () => {
    expect(plan.unconfirmed(0, 8, new Set([0, 2]))).toEqual({
      partitions: [1],
      seqs: [
        [1, 1],
        [4, 4],
        [7, 7],
      ],
    });
    expect(plan.unconfirmed(0, 5, new Set([0]))).toEqual({
      partitions: [1, 2],
      seqs: [
        [1, 2],
        [4, 5],
      ],
    });
    expect(plan.unconfirmed(2, 4, new Set())).toEqual({ partitions: [0, 1, 2], seqs: [[2, 4]] });
  });

  it("works with keyed messages: the ranges cover exactly the seqs of the missing partition", () => {
    const keyed = new PartitionPlan(3, 16);
    const missing = keyed.partitionOf(0);
    const u = keyed.unconfirmed(0, 99, new Set([0, 1, 2].filter((p) => p !== missing)));
    const marked = new Set(
      u?.seqs.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)),
    );
    for (let seq = 0; seq <= 99; seq += 1) {
      expect(marked.has(seq)).toBe(keyed.partitionOf(seq) === missing);
    }
    expect(u?.partitions).toEqual([missing]);
  });
});

describe("sizes the cluster must accept", () => {
  const profile = (messageSize: number, processorBatch = 100) => ({
    producer: { batchSize: 100, batchBytes: 1_048_576 },
    workload: { messageSize },
    processor: { batchSize: processorBatch },
  });
  const limit = { bytes: 104_857_600, source: "broker 1" };

  it("sizes the input topic for the producer's batches and the output topic for the processor's", () => {
    const sizes = runSizes(profile(100_000));
    expect(sizes.input).toBeGreaterThan(10 * 100_000);
    expect(sizes.input).toBeLessThan(1_048_576 + 8192);
    // The processor's chunks are cut by producer.batchBytes too: ten 100 KB records each.
    expect(processorChunk(profile(100_000))).toBe(10);
    expect(processorChunk(profile(100))).toBe(100);
    expect(sizes.output).toBe(sizes.input);
    expect(checkSizes(profile(100_000), limit, true)).toEqual(sizes);
  });

  it("takes 1 MB messages with the default settings", () => {
    expect(() => checkSizes(profile(1_000_000), limit, true)).not.toThrow();
  });

  it("refuses a messageSize beyond one request, naming the limit and the largest size allowed", () => {
    const largest = largestMessageSize(limit.bytes);
    expect(() => checkSizes(profile(largest), limit, false)).not.toThrow();
    const refuse = () => checkSizes(profile(largest + 1), limit, false);
    expect(refuse).toThrow(UsageError);
    expect(refuse).toThrow(
      `workload.messageSize: ${largest + 1} bytes is more than the cluster accepts in one request, socket.request.max.bytes = 104857600 (broker 1); the largest messageSize it takes is ${largest}`,
    );
  });

  it("takes messages up to the request limit with a processor: its chunks shrink to fit", () => {
    expect(processorChunk(profile(2_000_000))).toBe(1);
    expect(() => checkSizes(profile(50_000_000), limit, true)).not.toThrow();
  });
});
