import type { KafkaConsumer } from "@confluentinc/kafka-javascript";
import { InfrastructureError } from "../errors.js";
import type { Connection } from "../clients/connection.js";
import { assignedConsumer, connect, consume, disconnect } from "../clients/librdkafka.js";

export interface VisibleEndsOptions {
  bootstrap: string;
  connection?: Connection;
  topic: string;
  /** partition → the end offset (read_committed: the last stable offset) */
  ends: Map<number, number>;
  readCommitted: boolean;
  timeoutMs?: number;
}

const FIRST_WINDOW = 64;

/**
 * partition → one past the last record a consumer at this isolation level is handed (0 when it
 * gets none). A consumer that read everything stands there, not at the end offset: a partition
 * may end in transaction markers and aborted records, which no client hands out.
 */
export async function visibleEnds(opts: VisibleEndsOptions): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  const consumer = assignedConsumer(opts.bootstrap, opts.connection, {
    "isolation.level": opts.readCommitted ? "read_committed" : "read_uncommitted",
    "enable.partition.eof": true,
    "fetch.wait.max.ms": 50,
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  try {
    await connect(consumer, 10_000);
    let window = FIRST_WINDOW;
    let open = [...opts.ends].filter(([, end]) => end > 0).map(([p]) => p);
    for (const [p, end] of opts.ends) if (end <= 0) result.set(p, 0);
    while (open.length > 0) {
      const from = new Map(open.map((p) => [p, Math.max(0, opts.ends.get(p)! - window)]));
      const last = await lastIn(consumer, opts.topic, from, opts.ends, deadline);
      open = open.filter((p) => {
        const found = last.get(p);
        if (found !== undefined) result.set(p, found + 1);
        else if (from.get(p) === 0) result.set(p, 0);
        return !result.has(p);
      });
      window *= 16;
    }
    return result;
  } finally {
    await disconnect(consumer);
  }
}

/** The last offset handed out per partition, reading from `from` to the end (EOF). */
async function lastIn(
  consumer: KafkaConsumer,
  topic: string,
  from: Map<number, number>,
  ends: Map<number, number>,
  deadline: number,
): Promise<Map<number, number>> {
  const last = new Map<number, number>();
  const pending = new Set(from.keys());
  const onEof = (eof: { partition: number; offset: number }) => {
    if (eof.offset >= (ends.get(eof.partition) ?? 0)) pending.delete(eof.partition);
  };
  consumer.on("partition.eof", onEof);
  consumer.setDefaultConsumeTimeout(100);
  consumer.assign([...from].map(([partition, offset]) => ({ topic, partition, offset })));
  try {
    while (pending.size > 0) {
      if (Date.now() > deadline) {
        throw new InfrastructureError(
          topic,
          `the end of what consumers are handed was not reached in time (partitions ${[...pending].join(",")})`,
        );
      }
      const messages = await consume(consumer, 1000);
      for (const m of messages) {
        if (m.offset >= (ends.get(m.partition) ?? 0)) continue;
        last.set(m.partition, Math.max(last.get(m.partition) ?? -1, m.offset));
        if (m.offset >= (ends.get(m.partition) ?? 0) - 1) pending.delete(m.partition);
      }
    }
    return last;
  } finally {
    consumer.unassign();
    consumer.removeListener("partition.eof", onEof);
  }
}
