import { describe, expect, it } from "vitest";
import { outcomeOf, type Delivery } from "./librdkafka.js";

const ok = (seq: number, partition: number, offset: number): Delivery => ({
  seq,
  partition,
  offset,
});
const failed = (seq: number, partition: number, code = -192): Delivery => ({
  seq,
  partition,
  error: { message: "Local: Message timed out", code, errno: code, origin: "local" },
});

describe("librdkafka delivery reports → a batch's outcome", () => {
  it("ok with each partition's lowest offset when every record was acknowledged", () => {
    expect(outcomeOf([ok(0, 0, 7), ok(1, 1, 3), ok(2, 0, 8)])).toEqual({
      outcome: "ok",
      detail: { offsets: { "0": "7", "1": "3" } },
    });
  });

  it("ok for the acknowledged records, the others unconfirmed by seq range", () => {
    const result = outcomeOf([ok(0, 0, 7), failed(1, 1), failed(2, 1), ok(3, 0, 8), failed(5, 2)]);
    expect(result.outcome).toBe("ok");
    expect(result.detail.unconfirmed).toEqual({
      partitions: [1, 2],
      seqs: [
        [1, 2],
        [5, 5],
      ],
    });
    expect(result.detail.error).toMatch(/LibrdKafkaError \[-192\]: Local: Message timed out/);
  });

  it("unknown when no record got through and the error cannot prove none was stored", () => {
    expect(outcomeOf([failed(0, 0), failed(1, 0)]).outcome).toBe("unknown");
  });

  it("fail only when every error proves nothing was stored", () => {
    expect(outcomeOf([failed(0, 0, 10), failed(1, 0, 10)]).outcome).toBe("fail"); // MSG_SIZE_TOO_LARGE
    expect(outcomeOf([failed(0, 0, 10), failed(1, 0)]).outcome).toBe("unknown");
  });
});

describe("librdkafka producer settings", () => {
  it("gives a record its retries' time, never more than the transaction timeout", async () => {
    const { messageTimeoutMs } = await import("./librdkafka.js");
    expect(messageTimeoutMs({ requestTimeoutMs: 2000, retries: 10, retryBackoffMs: 100 })).toBe(
      23_000,
    );
    expect(messageTimeoutMs({ requestTimeoutMs: 30_000, retries: 10, retryBackoffMs: 100 })).toBe(
      60_000,
    );
    expect(messageTimeoutMs({ requestTimeoutMs: 1000, retries: 0, retryBackoffMs: 100 })).toBe(
      5000,
    );
  });
});
