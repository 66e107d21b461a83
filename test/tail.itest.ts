/**
 * The tail reader on the real stack: every record the producer had acked is seen, at exactly the
 * offset its ack reported, and records of another run on the same topic are left out.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { HEADER_PRODUCER, HEADER_RUN, HEADER_SEQ } from "../src/identity/headers.js";
import { TailReader, type SeenLine } from "../src/reader/tail.js";
import { bootstrap, directClient, uniqueName } from "./helpers.js";

const PARTITIONS = 3;
const PRODUCERS = 2;
const PER_SEND = 100;
const SENDS = 30; // 3000 messages

describe("tail reader", () => {
  const prefix = uniqueName("kc-tail");
  const topic = `${prefix}-input`;
  const groupId = `${prefix}-tail`;
  const kafka = directClient();
  const admin = kafka.admin();

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  });

  it("sees every acked record at the offset its ack reported, and only this run's", async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-tail-")), "tail.jsonl");
    const tail = await TailReader.start({
      bootstrap: bootstrap(),
      runId: prefix,
      topic,
      file,
      clock: () => Date.now(),
    });

    // "producer/seq" → "partition:offset", from the acks
    const expected = new Map<string, string>();
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    try {
      for (let s = 0; s < SENDS; s++) {
        const partition = s % PARTITIONS;
        const producerId = s % PRODUCERS;
        const seqs = Array.from({ length: PER_SEND }, (_, i) => s * PER_SEND + i);
        const [ack] = await producer.send({
          topic,
          acks: -1,
          messages: seqs.map((seq) => ({
            partition,
            value: `v${seq}`,
            headers: {
              [HEADER_RUN]: prefix,
              [HEADER_PRODUCER]: String(producerId),
              [HEADER_SEQ]: String(seq),
            },
          })),
        });
        const base = Number(ack!.baseOffset);
        seqs.forEach((seq, i) => expected.set(`${producerId}/${seq}`, `${partition}:${base + i}`));
      }
      // Another run's records on the same topic are not this run's evidence.
      await producer.send({
        topic,
        messages: [
          {
            partition: 0,
            value: "x",
            headers: { [HEADER_RUN]: "other-run", [HEADER_PRODUCER]: "0", [HEADER_SEQ]: "0" },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }

    const deadline = Date.now() + 30_000;
    const caughtUp = () => tail.progress().records >= expected.size && tail.progress().foreign > 0;
    while (!caughtUp() && Date.now() < deadline) await sleep(100);
    const t0 = Date.now();
    const stats = await tail.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    // errors may count a consumer restart on a fresh cluster (its group coordinator still loading)
    expect(stats, stats.lastError).toMatchObject({ records: expected.size, foreign: 1 });

    const lines = fs
      .readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as SeenLine);
    // one line per fetched batch, not per record
    expect(lines.length).toBeLessThan(expected.size / 10);
    const seen = new Map<string, string[]>();
    for (const line of lines) {
      expect(line.type).toBe("seen");
      expect(typeof line.time).toBe("number");
      for (const [offset, producerId, seq] of line.records) {
        const id = `${producerId}/${seq}`;
        seen.set(id, [...(seen.get(id) ?? []), `${line.partition}:${offset}`]);
      }
    }
    expect(seen.size).toBe(expected.size);
    for (const [id, at] of expected) expect([id, seen.get(id)]).toEqual([id, [at]]);
  });
});
