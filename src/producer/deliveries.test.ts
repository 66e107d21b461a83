import { describe, expect, it } from "vitest";
import type { LibrdKafkaError } from "@confluentinc/kafka-javascript";
import { BatchReports, outcomeOf } from "./deliveries.js";

type Report = { seq: number; partition: number; offset?: number; error?: LibrdKafkaError };
const ok = (seq: number, partition: number, offset: number): Report => ({ seq, partition, offset });
const failed = (seq: number, partition: number, code = -192): Report => ({
  seq,
  partition,
  error: { message: "Local: Message timed out", code, errno: code, origin: "local" },
});

/** A batch of records from seq 0 on, every one of them reported. */
function tally(reports: Report[]) {
  const last = Math.max(...reports.map((r) => r.seq));
  const partitions = Array.from({ length: last + 1 }, (_, seq) => {
    return reports.find((r) => r.seq === seq)!.partition;
  });
  const batch = new BatchReports(0, partitions);
  const done = reports.map((r) => batch.report(r.seq, r.error ?? null, r.offset));
  expect(done.at(-1)).toBe(true);
  return batch;
}

describe("delivery reports → a batch's outcome", () => {
  it("ok with each partition's lowest offset when every record was acknowledged", () => {
    expect(outcomeOf(tally([ok(0, 0, 7), ok(1, 1, 3), ok(2, 0, 8)]))).toEqual({
      outcome: "ok",
      detail: { offsets: { "0": "7", "1": "3" } },
    });
  });

  it("ok for the acknowledged records, the others unconfirmed by seq range", () => {
    const result = outcomeOf(
      tally([ok(0, 0, 7), failed(1, 1), failed(2, 1), ok(3, 0, 8), failed(4, 2)]),
    );
    expect(result.outcome).toBe("ok");
    expect(result.detail.unconfirmed).toEqual({
      partitions: [1, 2],
      seqs: [
        [1, 2],
        [4, 4],
      ],
    });
    expect(result.detail.error).toMatch(/LibrdKafkaError \[-192\]: Local: Message timed out/);
  });

  it("unknown when no record got through and the error cannot prove none was stored", () => {
    expect(outcomeOf(tally([failed(0, 0), failed(1, 0)])).outcome).toBe("unknown");
  });

  it("fail only when every error proves nothing was stored", () => {
    expect(outcomeOf(tally([failed(0, 0, 10), failed(1, 0, 10)])).outcome).toBe("fail"); // MSG_SIZE_TOO_LARGE
    expect(outcomeOf(tally([failed(0, 0, 10), failed(1, 0)])).outcome).toBe("unknown");
  });
});

describe("a batch's delivery reports", () => {
  it("is done once every record has one, a repeated report ignored", async () => {
    const batch = new BatchReports(10, [0, 1]);
    expect(batch.report(0, null, 5)).toBe(false);
    expect(batch.report(0, null, 4)).toBe(false);
    expect(batch.report(1, null, 9)).toBe(true);
    const tally = await batch.done;
    expect([...tally.offsets]).toEqual([
      [0, 5],
      [1, 9],
    ]);
  });

  it("books every report still owed as the error when the producer is discarded", async () => {
    const batch = new BatchReports(10, [0, 0, 2]);
    batch.report(1, null, 3);
    batch.abandon({ message: "gone", code: -1, errno: -1, origin: "kafka-chaos" });
    const tally = await batch.done;
    expect(tally.failed.map((f) => [f.seq, f.partition])).toEqual([
      [10, 0],
      [12, 2],
    ]);
    expect(outcomeOf(tally).outcome).toBe("ok");
  });
});
