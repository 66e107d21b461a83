import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { MisconfigurationError } from "../errors.js";
import type { HistoryEvent, SendCompleted } from "../history/events.js";
import type { HistoryWriter } from "../history/writer.js";
import { profileSchema, type ProfileInput } from "../profiles/schema.js";
import { PartitionPlan } from "./batches.js";
import {
  createRetry,
  createSendMessages,
  protocolError,
} from "../clients/kafkajs-internals.test-support.js";
import { runProducer, runProducers, type ProducerOptions } from "./producer.js";

/** A produce request as a fake broker sees it (kafkajs's createTopicData). */
interface ProduceRequest {
  acks: number;
  topicData: { topic: string; partitions: { partition: number; messages: kafkajs.Message[] }[] }[];
}

type BrokerBehaviour = (req: ProduceRequest, attempt: number) => Promise<"ok" | Error>;

/**
 * A kafkajs producer whose send() is kafkajs's real sendMessages with its real retrier, over a
 * fake cluster: partition leaders can move between attempts, brokers answer as told.
 */
function fakeKafka(opts: {
  partitions: number;
  leaders: number[];
  /** leaders after a metadata refresh (a broker died) */
  leadersAfterRefresh?: number[];
  brokers: Record<number, BrokerBehaviour>;
  retries?: number;
}) {
  let leaders = [...opts.leaders];
  const offsets = new Map<number, number>();
  const stored: { partition: number; seq: number }[] = [];
  const attempts = new Map<number, number>();
  const broker = (nodeId: number) => ({
    nodeId,
    produce: async (req: ProduceRequest) => {
      const attempt = attempts.get(nodeId) ?? 0;
      attempts.set(nodeId, attempt + 1);
      const answer = await (opts.brokers[nodeId] ?? (async () => "ok" as const))(req, attempt);
      if (answer instanceof Error) throw answer;
      const topics = req.topicData.map(({ topic, partitions }) => ({
        topicName: topic,
        partitions: partitions.map(({ partition, messages }) => {
          const base = offsets.get(partition) ?? 0;
          offsets.set(partition, base + messages.length);
          for (const m of messages) stored.push({ partition, seq: Number(m.headers?.["kc-seq"]) });
          return { partition, errorCode: 0, baseOffset: String(base), logAppendTime: "-1" };
        }),
      }));
      return { topics };
    },
  });
  const brokers = new Map(Object.keys(opts.brokers).map((id) => [Number(id), broker(Number(id))]));
  const cluster = {
    refreshMetadataIfNecessary: async () => {},
    refreshMetadata: async () => {
      if (opts.leadersAfterRefresh) leaders = [...opts.leadersAfterRefresh];
    },
    addMultipleTargetTopics: async () => {},
    isConnected: () => true,
    removeBroker: () => {},
    findTopicPartitionMetadata: () =>
      leaders.map((leader, partitionId) => ({ partitionId, leader })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) =>
      partitions.reduce<Record<number, number[]>>((acc, id) => {
        const p = Number(id);
        const leader = leaders[p] as number;
        (acc[leader] ??= []).push(p);
        return acc;
      }, {}),
    // kafkajs passes the leader ids as object keys, i.e. strings
    findBroker: async ({ nodeId }: { nodeId: number | string }) => brokers.get(Number(nodeId)),
  };
  const eosManager = {
    acquireBrokerLock: async () => {},
    releaseBrokerLock: async () => {},
    isTransactional: () => false,
    getSequence: () => 0,
    updateSequence: () => {},
    getProducerId: () => -1,
    getProducerEpoch: () => 0,
    getTransactionalId: () => undefined,
  };
  const noop = () => {};
  const send = createSendMessages({
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    cluster,
    partitioner: kafkajs.Partitioners.DefaultPartitioner() as never,
    eosManager,
    retrier: createRetry({ retries: opts.retries ?? 5, initialRetryTime: 1, maxRetryTime: 2 }),
  });
  const producer = {
    connect: async () => {},
    disconnect: async () => {},
    send: (record: kafkajs.ProducerRecord) =>
      send({
        acks: record.acks ?? -1,
        topicMessages: [{ topic: record.topic, messages: record.messages }],
      }),
  };
  const kafka = { producer: () => producer } as unknown as kafkajs.Kafka;
  return { kafka, stored };
}

function memoryHistory(): { history: HistoryWriter; events: HistoryEvent[] } {
  const events: HistoryEvent[] = [];
  const history = {
    append: (e: HistoryEvent) => events.push(e),
    flush: async () => {},
  } as unknown as HistoryWriter;
  return { history, events };
}

function producerOptions(
  kafka: kafkajs.Kafka,
  history: HistoryWriter,
  profile: Omit<ProfileInput, "name">,
  messages: number,
): ProducerOptions {
  const p = profileSchema.parse({ name: "t", ...profile });
  return {
    kafka,
    runId: "run",
    topic: "t",
    producerId: 0,
    messages,
    settings: p.producer,
    workload: p.workload,
    history,
    clock: () => 0,
    progress: { sent: 0, acked: 0, failed: 0, unknown: 0 },
    signal: new AbortController().signal,
  };
}

const completions = (events: HistoryEvent[]) =>
  events.filter((e): e is SendCompleted => e.type !== "invoke" && "producer" in e);

describe("producer: every message placed, every ok backed by the broker", () => {
  it("sends each message to the partition it chose and records the offsets of each", async () => {
    const { kafka, stored } = fakeKafka({
      partitions: 3,
      leaders: [1, 2, 1],
      brokers: { 1: async () => "ok", 2: async () => "ok" },
    });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, { workload: { partitions: 3, keys: 16 } }, 250);
    await runProducer(opts);
    const plan = new PartitionPlan(3, 16);
    expect(stored).toHaveLength(250);
    for (const r of stored) expect(r.partition).toBe(plan.partitionOf(r.seq));
    const done = completions(events);
    expect(done.map((e) => [e.type, e.from, e.to])).toEqual([
      ["ok", 0, 99],
      ["ok", 100, 199],
      ["ok", 200, 249],
    ]);
    expect(done.every((e) => e.unconfirmed === undefined)).toBe(true);
    expect(Object.keys(done[0]?.offsets ?? {}).sort()).toEqual(["0", "1", "2"]);
    expect(opts.progress).toMatchObject({ sent: 250, acked: 250, failed: 0, unknown: 0 });
  });

  it("kafkajs#1303: a leader dies between attempts, send() resolves without its partition → unconfirmed, not ok", async () => {
    // Broker 2 leads partition 1 and dies during the first attempt; after the metadata refresh
    // broker 1 leads it, but broker 1 already answered for this send, so kafkajs never sends
    // partition 1 again and resolves with the offsets of partitions 0 and 2 only.
    const { kafka, stored } = fakeKafka({
      partitions: 3,
      leaders: [1, 2, 1],
      leadersAfterRefresh: [1, 1, 1],
      brokers: {
        1: async () => "ok",
        2: async () => {
          await new Promise((r) => setTimeout(r, 5));
          return new kafkajs.KafkaJSConnectionError("Connection error: read ECONNRESET");
        },
      },
    });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, { workload: { partitions: 3, keys: 0 } }, 9);
    await runProducer(opts);
    const [done] = completions(events);
    expect(done?.type).toBe("ok");
    expect(done?.unconfirmed).toEqual({
      partitions: [1],
      seqs: [
        [1, 1],
        [4, 4],
        [7, 7],
      ],
    });
    // The records of partition 1 were indeed never stored.
    expect(stored.filter((r) => r.partition === 1)).toEqual([]);
    expect(opts.progress).toMatchObject({ acked: 6, unknown: 3 });
  });

  it("acks=0: no response, no offsets, nothing marked unconfirmed", async () => {
    const { kafka } = fakeKafka({
      partitions: 3,
      leaders: [1, 1, 1],
      brokers: { 1: async () => "ok" },
    });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, { producer: { acks: 0, retries: 0 } }, 10);
    await runProducer(opts);
    const [done] = completions(events);
    expect(done).toMatchObject({ type: "ok", from: 0, to: 9 });
    expect(done?.unconfirmed).toBeUndefined();
    expect(done?.offsets).toBeUndefined();
  });

  it("cuts batches by bytes: 100 KB messages go ten to a send with the default 1 MiB", async () => {
    const { kafka } = fakeKafka({
      partitions: 3,
      leaders: [1, 1, 1],
      brokers: { 1: async () => "ok" },
    });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, { workload: { messageSize: 100_000 } }, 25);
    await runProducer(opts);
    expect(completions(events).map((e) => [e.from, e.to])).toEqual([
      [0, 9],
      [10, 19],
      [20, 24],
    ]);
  });

  it("records a definite refusal as fail, and stops at the third refused send with exit 2", async () => {
    const { kafka } = fakeKafka({
      partitions: 1,
      leaders: [1],
      brokers: { 1: async () => protocolError("MESSAGE_TOO_LARGE") },
    });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, { workload: { partitions: 1 } }, 1000);
    const err = await runProducer(opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MisconfigurationError);
    expect((err as MisconfigurationError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/^MESSAGE_TOO_LARGE: the first 3 sends were refused/);
    const done = completions(events);
    expect(done.map((e) => e.type)).toEqual(["fail", "fail", "fail"]);
    expect(done[0]?.error).toMatch(/\[MESSAGE_TOO_LARGE\]/);
  });

  it("a refusal that may have left other partitions stored is unknown (and still stops the run)", async () => {
    const { kafka } = fakeKafka({
      partitions: 3,
      leaders: [1, 2, 2],
      brokers: { 1: async () => protocolError("MESSAGE_TOO_LARGE"), 2: async () => "ok" },
    });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, {}, 1000);
    await expect(runProducer(opts)).rejects.toBeInstanceOf(MisconfigurationError);
    expect(completions(events).map((e) => e.type)).toEqual(["unknown", "unknown", "unknown"]);
  });

  it("runProducers: one producer's misconfiguration stops the others, then it is thrown", async () => {
    const refuse = fakeKafka({
      partitions: 1,
      leaders: [1],
      brokers: { 1: async () => protocolError("TOPIC_AUTHORIZATION_FAILED") },
    });
    const slow = fakeKafka({
      partitions: 1,
      leaders: [1],
      brokers: { 1: async () => new Promise((r) => setTimeout(() => r("ok"), 2)) },
    });
    const a = memoryHistory();
    const b = memoryHistory();
    const failing = producerOptions(
      refuse.kafka,
      a.history,
      { workload: { partitions: 1 } },
      100_000,
    );
    const other = {
      ...producerOptions(slow.kafka, b.history, { workload: { partitions: 1 } }, 10_000_000),
      producerId: 1,
    };
    const err = await runProducers([failing, other]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MisconfigurationError);
    expect((err as MisconfigurationError).exitCode).toBe(3);
    // The other producer stopped at a batch boundary: every invoke it wrote has its completion.
    const invokes = b.events.filter((e) => e.type === "invoke").length;
    expect(completions(b.events)).toHaveLength(invokes);
    expect(invokes).toBeLessThan(100);
  });
});

/**
 * A transactional kafkajs producer over a fake broker: every send is acknowledged at the next
 * offset of its partition unless `failSend` says otherwise; a commit succeeds unless
 * `failCommit`. `log` lists the transaction calls in order.
 */
function fakeTransactional(opts: {
  failSend?: (n: number) => boolean;
  failCommit?: (n: number) => boolean;
}) {
  const log: string[] = [];
  const offsets = new Map<number, number>();
  let sends = 0;
  let commits = 0;
  const transaction = async () => ({
    send: async (record: kafkajs.ProducerRecord) => {
      const n = sends++;
      const partition = record.messages[0]!.partition!;
      const seqs = record.messages.map((m) => Number(m.headers?.["kc-seq"]));
      log.push(`send p${partition} ${seqs[0]}…${seqs[seqs.length - 1]}`);
      if (opts.failSend?.(n)) throw new kafkajs.KafkaJSError("broker gone", { retriable: true });
      const base = offsets.get(partition) ?? 0;
      offsets.set(partition, base + record.messages.length);
      return [{ topicName: record.topic, partition, errorCode: 0, baseOffset: String(base) }];
    },
    commit: async () => {
      const n = commits++;
      log.push("commit");
      if (opts.failCommit?.(n)) throw new kafkajs.KafkaJSError("coordinator gone");
    },
    abort: async () => void log.push("abort"),
  });
  const producer = { connect: async () => {}, disconnect: async () => {}, transaction };
  const kafka = { producer: () => producer } as unknown as kafkajs.Kafka;
  return { kafka, log };
}

describe("transactional producer: batches of transactionMs in one transaction", () => {
  const profile = {
    producer: {
      idempotent: true,
      transactional: true,
      maxInFlight: 1,
      batchSize: 10,
      transactionMs: 100,
      retryBackoffMs: 0,
    },
    workload: { partitions: 1, keys: 0 },
  } as const;

  /** A clock that moves `step` ms each time it is read. */
  const ticking = (step: number) => {
    let now = 0;
    return () => (now += step);
  };

  it("every batch has its invoke before its send and its ok after the commit, all in txn 0", async () => {
    const { kafka, log } = fakeTransactional({});
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, profile, 30);
    await runProducer({ ...opts, transactionalId: "tx", clock: () => 0 });
    expect(log).toEqual(["send p0 0…9", "send p0 10…19", "send p0 20…29", "commit"]);
    expect(events.map((e) => `${e.type} ${"from" in e ? e.from : ""}`)).toEqual([
      "invoke 0",
      "invoke 10",
      "invoke 20",
      "ok 0",
      "ok 10",
      "ok 20",
    ]);
    expect(completions(events).map((e) => [e.txn, e.offsets])).toEqual([
      [0, { 0: "0" }],
      [0, { 0: "10" }],
      [0, { 0: "20" }],
    ]);
    expect(opts.progress).toEqual({ sent: 30, acked: 30, failed: 0, unknown: 0 });
  });

  it("closes a transaction once it has been open transactionMs: 40 ms a batch, 100 ms → 3 batches", async () => {
    const { kafka, log } = fakeTransactional({});
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, profile, 50);
    await runProducer({ ...opts, transactionalId: "tx", clock: ticking(20) });
    expect(log.filter((l) => l === "commit")).toHaveLength(2);
    expect(completions(events).map((e) => `${e.from}:${e.txn}`)).toEqual([
      "0:0",
      "10:0",
      "20:0",
      "30:1",
      "40:1",
    ]);
  });

  it("a send that fails aborts the whole transaction; it is retried with the same batches, one invoke each", async () => {
    const { kafka, log } = fakeTransactional({ failSend: (n) => n === 1 });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, profile, 20);
    await runProducer({ ...opts, transactionalId: "tx", clock: () => 0 });
    expect(log).toEqual([
      "send p0 0…9",
      "send p0 10…19",
      "abort",
      "send p0 0…9",
      "send p0 10…19",
      "commit",
    ]);
    expect(events.map((e) => `${e.type} ${"from" in e ? e.from : ""}`)).toEqual([
      "invoke 0",
      "invoke 10",
      "ok 0",
      "ok 10",
    ]);
  });

  it("a commit that fails is resolved for the whole transaction: aborted → retried, every batch fail at the end", async () => {
    const { kafka } = fakeTransactional({ failCommit: () => true });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, profile, 20);
    const doubts: unknown[] = [];
    await runProducer({
      ...opts,
      transactionalId: "tx",
      clock: () => 0,
      resolveInDoubt: async (doubt) => {
        doubts.push(doubt);
        return "aborted";
      },
    });
    // first attempt, then `retries` (10) more, each resolved by its first batch
    expect(doubts).toHaveLength(11);
    expect(doubts[0]).toEqual({
      topic: "t",
      offsets: { 0: "0" },
      runId: "run",
      producer: 0,
      from: 0,
    });
    expect(completions(events).map((e) => [e.type, e.from, e.resolved])).toEqual([
      ["fail", 0, "aborted"],
      ["fail", 10, "aborted"],
    ]);
    expect(opts.progress).toEqual({ sent: 20, acked: 0, failed: 20, unknown: 0 });
  });

  it("a commit that fails and cannot be resolved leaves every batch of it unknown, with its offsets", async () => {
    const { kafka } = fakeTransactional({ failCommit: (n) => n === 0 });
    const { history, events } = memoryHistory();
    const opts = producerOptions(kafka, history, profile, 20);
    await runProducer({ ...opts, transactionalId: "tx", clock: () => 0 });
    expect(completions(events).map((e) => [e.type, e.from, e.offsets])).toEqual([
      ["unknown", 0, { 0: "0" }],
      ["unknown", 10, { 0: "10" }],
    ]);
  });
});
