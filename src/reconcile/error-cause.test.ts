import { describe, expect, it } from "vitest";
import { errorCause } from "./error-cause.js";

describe("errorCause", () => {
  it("takes the broker addresses out of the text and lists them", () => {
    expect(
      errorCause(
        "KafkaJSConnectionError: Connection error: connect ECONNREFUSED 127.0.0.1:21003 (broker 127.0.0.1:21003)",
      ),
    ).toEqual({
      cause:
        "KafkaJSConnectionError: Connection error: connect ECONNREFUSED <address> (broker <address>)",
      addresses: ["127.0.0.1:21003"],
    });
    expect(
      errorCause("Local: Broker transport failure: kafka-1.internal:9092/1 down, [::1]:9093"),
    ).toEqual({
      cause: "Local: Broker transport failure: <address>/1 down, <address>",
      addresses: ["kafka-1.internal:9092", "[::1]:9093"],
    });
  });

  it("leaves a text without an address as it is, codes and timings included", () => {
    const text =
      "KafkaJSProtocolError [NOT_ENOUGH_REPLICAS]: Messages are rejected since there are fewer in-sync replicas than required";
    expect(errorCause(text)).toEqual({ cause: text, addresses: [] });
    expect(
      errorCause(
        "KafkaJSRequestTimeoutError: Request Produce(key: 0, version: 7) timed out after 2000ms",
      ).addresses,
    ).toEqual([]);
  });
});
