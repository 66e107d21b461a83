import { describe, expect, it } from "vitest";

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
