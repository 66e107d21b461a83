import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { MisconfigurationError } from "../errors.js";
import {
  classifySendError,
  describeError,
  errorKind,
  RefusalWatch,
  type Misconfiguration,
} from "./outcome.js";
import {
  kafkajsError,
  protocolError,
  sendError,
} from "../clients/kafkajs-internals.test-support.js";

const ONE = { partitions: 1 };
const THREE = { partitions: 3 };

const timeout = () =>
  new kafkajs.KafkaJSRequestTimeoutError("Request Produce(key: 0, version: 7) timed out");
const cut = () => kafkajsError("KafkaJSConnectionClosedError", "Closed connection");

/** The outcome of a send whose attempts threw these errors, kafkajs retrying `retries` times. */
async function outcomeOf(errors: Error[], retries: number, ctx = ONE) {
  return classifySendError(await sendError(errors, retries), ctx);
}

describe("send errors: fail only when nothing of the batch can have been stored", () => {
  describe("refused for every partition, on every attempt (permissions, protocol, settings)", () => {
    it.each([
      "TOPIC_AUTHORIZATION_FAILED",
      "CLUSTER_AUTHORIZATION_FAILED",
      "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
      "SASL_AUTHENTICATION_FAILED",
      "INVALID_REQUIRED_ACKS",
      "UNSUPPORTED_VERSION",
      "INVALID_TOPIC_EXCEPTION",
    ])("%s is fail, whatever the partitions and earlier attempts", async (type) => {
      expect(await outcomeOf([protocolError(type)], 5, THREE)).toMatchObject({
        outcome: "fail",
        kind: type,
      });
      // A timed-out attempt before it: the same request was refused the same way then too.
      expect((await outcomeOf([timeout(), protocolError(type)], 5, THREE)).outcome).toBe("fail");
    });

    it("a SASL authentication failure (kafkajs's own error class) is fail", async () => {
      const err = kafkajsError(
        "KafkaJSSASLAuthenticationError",
        "SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256",
      );
      expect(classifySendError(err, THREE)).toMatchObject({
        outcome: "fail",
        kind: "KafkaJSSASLAuthenticationError",
      });
    });

    it("a broker that does not know the request (KafkaJSServerDoesNotSupportApiKey) is fail", () => {
      const err = kafkajsError(
        "KafkaJSServerDoesNotSupportApiKey",
        "The Kafka server does not support the requested API version",
      );
      expect(classifySendError(err, THREE).outcome).toBe("fail");
    });
  });

  describe("refused for what the records are, on one partition of the request", () => {
    it.each(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE", "INVALID_RECORD"])(
      "%s is fail for a batch on one partition, unknown when other partitions may have been stored",
      async (type) => {
        expect(await outcomeOf([protocolError(type)], 5, ONE)).toMatchObject({
          outcome: "fail",
          kind: type,
        });
        expect((await outcomeOf([timeout(), protocolError(type)], 5, ONE)).outcome).toBe("fail");
        expect((await outcomeOf([protocolError(type)], 5, THREE)).outcome).toBe("unknown");
      },
    );

    it("CORRUPT_MESSAGE (retriable in kafkajs) is fail only after a single attempt", async () => {
      expect(await outcomeOf([protocolError("CORRUPT_MESSAGE")], 0, ONE)).toMatchObject({
        outcome: "fail",
        kind: "CORRUPT_MESSAGE",
      });
      // Retried: kafkajs reports only the last attempt; an earlier one may have timed out.
      expect((await outcomeOf([protocolError("CORRUPT_MESSAGE")], 2, ONE)).outcome).toBe("unknown");
    });
  });

  describe("refused before append, but another attempt may have fared differently", () => {
    it.each(["NOT_ENOUGH_REPLICAS", "UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE"])(
      "%s is fail after one attempt on one partition, unknown once retried or on several",
      async (type) => {
        expect(await outcomeOf([protocolError(type)], 0, ONE)).toMatchObject({
          outcome: "fail",
          kind: type,
        });
        expect((await outcomeOf([protocolError(type)], 0, THREE)).outcome).toBe("unknown");
        expect((await outcomeOf([timeout(), protocolError(type)], 3, ONE)).outcome).toBe("unknown");
        expect((await outcomeOf([protocolError(type)], 3, ONE)).outcome).toBe("unknown");
      },
    );

    it("metadata not loaded (nothing of that attempt sent) is fail after a single attempt", async () => {
      const notLoaded = () =>
        kafkajsError("KafkaJSMetadataNotLoaded", "Producing to topic without metadata");
      expect((await outcomeOf([notLoaded()], 0, THREE)).outcome).toBe("fail");
      expect((await outcomeOf([timeout(), notLoaded()], 3, THREE)).outcome).toBe("unknown");
    });
  });

  describe("may have been stored: unknown", () => {
    it.each([
      // The leader appended, then lost leadership or timed out waiting for the replicas.
      "NOT_LEADER_FOR_PARTITION",
      "REQUEST_TIMED_OUT",
      "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
      "KAFKA_STORAGE_ERROR",
      // Idempotent producer: a duplicate sequence means it was stored before.
      "DUPLICATE_SEQUENCE_NUMBER",
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
      "INVALID_PRODUCER_EPOCH",
      "UNKNOWN_PRODUCER_ID",
    ])("%s is unknown, even after one attempt on one partition", async (type) => {
      expect(await outcomeOf([protocolError(type)], 0, ONE)).toMatchObject({
        outcome: "unknown",
        kind: type,
      });
    });

    it("a request timeout, a cut or refused connection, a lock timeout are unknown", async () => {
      expect(await outcomeOf([timeout()], 0, ONE)).toMatchObject({
        outcome: "unknown",
        kind: "KafkaJSRequestTimeoutError",
      });
      expect((await outcomeOf([cut()], 3, ONE)).kind).toBe("KafkaJSConnectionClosedError");
      expect((await outcomeOf([cut()], 3, ONE)).outcome).toBe("unknown");
      const refused = new kafkajs.KafkaJSConnectionError(
        "Connection error: connect ECONNREFUSED 127.0.0.1:21000",
      );
      expect((await outcomeOf([refused], 0, ONE)).outcome).toBe("unknown");
      const lock = kafkajsError("KafkaJSLockTimeout", "Timeout while acquiring lock");
      expect(classifySendError(lock, ONE).outcome).toBe("unknown");
    });

    it("retries exhausted on retriable errors are unknown", async () => {
      const err = await sendError([timeout(), protocolError("NOT_LEADER_FOR_PARTITION")], 2);
      expect((err as Error).name).toBe("KafkaJSNumberOfRetriesExceeded");
      expect(classifySendError(err, ONE)).toMatchObject({
        outcome: "unknown",
        kind: "NOT_LEADER_FOR_PARTITION",
      });
    });

    it("anything unrecognised is unknown: a plain Error, a string, nothing", () => {
      for (const err of [new Error("boom"), "boom", undefined, null, { weird: true }]) {
        expect(classifySendError(err, ONE).outcome).toBe("unknown");
      }
    });
  });

  it("an error while connecting the producer is fail: no record of the batch left the client", () => {
    const refused = new kafkajs.KafkaJSConnectionError("Connection error: connect ECONNREFUSED");
    expect(classifySendError(refused, { partitions: 3, beforeSend: true }).outcome).toBe("fail");
  });

  it("an aggregate is fail only when every error in it is", () => {
    const all = new kafkajs.KafkaJSAggregateError("x", [
      protocolError("TOPIC_AUTHORIZATION_FAILED"),
      protocolError("TOPIC_AUTHORIZATION_FAILED"),
    ]);
    expect(classifySendError(all, THREE).outcome).toBe("fail");
    const mixed = new kafkajs.KafkaJSAggregateError("x", [
      protocolError("TOPIC_AUTHORIZATION_FAILED"),
      timeout(),
    ]);
    expect(classifySendError(mixed, THREE).outcome).toBe("unknown");
  });

  it("a cause chain that loops does not hang", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(classifySendError(a, ONE).outcome).toBe("unknown");
  });
});

describe("error kinds and texts", () => {
  it("names the protocol type through the wrappers, else the innermost class", async () => {
    expect(errorKind(await sendError([protocolError("NOT_ENOUGH_REPLICAS")], 1))).toBe(
      "NOT_ENOUGH_REPLICAS",
    );
    const wrapped = kafkajsError("KafkaJSNonRetriableError", timeout(), { cause: timeout() });
    expect(errorKind(wrapped)).toBe("KafkaJSRequestTimeoutError");
    expect(errorKind("text")).toBe("Error");
  });

  it("describes the error with its class, protocol type and cause", async () => {
    const err = await sendError([protocolError("NOT_ENOUGH_REPLICAS")], 1);
    expect(describeError(err)).toMatch(
      /^KafkaJSNumberOfRetriesExceeded \[NOT_ENOUGH_REPLICAS\]: Messages are rejected/,
    );
    expect(describeError(protocolError("MESSAGE_TOO_LARGE"))).toMatch(
      /^KafkaJSProtocolError \[MESSAGE_TOO_LARGE\]: /,
    );
    expect(describeError(new Error("outer", { cause: new Error("inner") }))).toBe(
      "Error: outer (inner)",
    );
  });

  it("marks misconfigurations: the profile's (exit 2) or the cluster's and access (exit 3)", () => {
    const tooLarge = classifySendError(protocolError("MESSAGE_TOO_LARGE"), THREE);
    expect(tooLarge.misconfiguration).toMatchObject({
      kind: "MESSAGE_TOO_LARGE",
      profileAtFault: true,
    });
    const denied = classifySendError(protocolError("TOPIC_AUTHORIZATION_FAILED"), THREE);
    expect(denied.misconfiguration).toMatchObject({ profileAtFault: false });
    expect(classifySendError(timeout(), ONE).misconfiguration).toBeUndefined();
    expect(
      classifySendError(protocolError("NOT_ENOUGH_REPLICAS"), ONE).misconfiguration,
    ).toBeUndefined();
  });
});

describe("RefusalWatch: stop when sends keep being refused alike", () => {
  const tooLarge = classifySendError(protocolError("MESSAGE_TOO_LARGE"), THREE)
    .misconfiguration as Misconfiguration;
  const denied = classifySendError(protocolError("TOPIC_AUTHORIZATION_FAILED"), THREE)
    .misconfiguration as Misconfiguration;

  it("stops at the third of the first sends refused alike, naming error, count and fix (exit 2)", () => {
    const watch = new RefusalWatch();
    expect(watch.note(tooLarge)).toBeUndefined();
    expect(watch.note(tooLarge)).toBeUndefined();
    const stop = watch.note(tooLarge);
    expect(stop).toBeInstanceOf(MisconfigurationError);
    expect(stop?.exitCode).toBe(2);
    expect(stop?.sends).toBe(3);
    expect(stop?.message).toBe(
      "MESSAGE_TOO_LARGE: the first 3 sends were refused (a record batch is larger than the topic's max.message.bytes); fix: lower workload.messageSize or producer.batchBytes",
    );
    expect(stop?.message).not.toContain("\n");
  });

  it("an access problem exits 3", () => {
    const watch = new RefusalWatch();
    watch.note(denied);
    watch.note(denied);
    expect(watch.note(denied)?.exitCode).toBe(3);
  });

  it("does not stop for a few refusals among acknowledged sends, or for mixed refusals", () => {
    const watch = new RefusalWatch();
    watch.note(undefined);
    for (let i = 0; i < 5; i += 1) expect(watch.note(tooLarge)).toBeUndefined();
    const mixed = new RefusalWatch();
    for (let i = 0; i < 4; i += 1) {
      expect(mixed.note(tooLarge)).toBeUndefined();
      expect(mixed.note(denied)).toBeUndefined();
    }
  });

  it("stops when a large share of the sends so far were refused alike", () => {
    const watch = new RefusalWatch();
    for (let i = 0; i < 8; i += 1) watch.note(undefined);
    let stop: MisconfigurationError | undefined;
    let refusals = 0;
    while (!stop) {
      refusals += 1;
      stop = watch.note(tooLarge);
    }
    expect(refusals).toBe(10);
    expect(stop.message).toMatch(/^MESSAGE_TOO_LARGE: 10 of 18 sends were refused/);
  });
});
