/**
 * The final drain against a transaction left open on the topic (a killed producer whose
 * transactional id nobody reuses): the last stable offset stops there until the coordinator
 * aborts it, and read_committed readers see nothing after it. The drain must wait for it, or
 * the committed records behind it would count as lost.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readDrainBatches } from "../src/history/reader.js";
import { highWatermarks, waitTransactionsClosed } from "../src/reader/offsets.js";
import { readOfRecord } from "../src/reader/read.js";
import { bootstrap, directClient, uniqueName } from "./helpers.js";

async function records(file: string): Promise<number> {
  let n = 0;
  for await (const batch of readDrainBatches(file)) n += batch.length;
  return n;
}

describe("drain and open transactions", () => {
  it("waits until a transaction left open ends, then reads what was committed after it", async () => {
    const kafka = directClient();
    const topic = uniqueName("kc-test-opentx");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-drain-"));
    const headers = (seq: number) => ({ "kc-run": "r", "kc-producer": "0", "kc-seq": String(seq) });
    try {
      // A zombie: its transaction holds record 0 and is never committed nor aborted.
      const zombie = kafka.producer({
        transactionalId: uniqueName("zombie"),
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 4000,
      });
      await zombie.connect();
      const open = await zombie.transaction();
      await open.send({ topic, messages: [{ value: "z", headers: headers(0) }] });
      const live = kafka.producer({
        transactionalId: uniqueName("live"),
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await live.connect();
      const tx = await live.transaction();
      await tx.send({
        topic,
        messages: [1, 2, 3].map((seq) => ({ value: "v", headers: headers(seq) })),
      });
      await tx.commit();
      await live.disconnect();
      // The commit returns before the coordinator has written its marker to the partition.
      const deadline = Date.now() + 10_000;
      while ((await highWatermarks(kafka, topic)).get(0) !== 5 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const drain = (file: string, readCommitted: boolean) =>
        readOfRecord({
          kafka,
          bootstrap: bootstrap(),
          runId: "r",
          topic,
          file: path.join(dir, file),
          readCommitted,
          idleTimeoutMs: 10_000,
        });
      const all = await drain("uncommitted.jsonl", false);
      expect(all.records).toBe(4);
      expect(all.ends.get(0)).toBe(5); // 4 records and the live transaction's marker

      // Read committed now, the drain stops at the open transaction: 3 committed records unseen.
      await drain("early.jsonl", true);
      expect(await records(path.join(dir, "early.jsonl"))).toBe(0);

      const held = await waitTransactionsClosed(kafka, topic, all.ends, 30_000);
      expect(held).toEqual([]);
      await drain("committed.jsonl", true);
      expect(await records(path.join(dir, "committed.jsonl"))).toBe(3);
      await zombie.disconnect().catch(() => {});
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  }, 60_000);
});
