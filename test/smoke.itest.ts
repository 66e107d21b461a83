import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type kafkajs from "kafkajs";
import { ProxySet } from "../src/faults/proxies.js";
import { kafkaClient } from "../src/clients/kafkajs.js";
import { brokersOf, directClient, toxiproxyUrl, uniqueName } from "./helpers.js";

const COUNT = 10_000;

describe("smoke: kafkajs through Toxiproxy against the real broker", () => {
  const name = uniqueName("kc-smoke");
  const topic = `${name}-t`;
  const direct = directClient();
  let proxies: ProxySet;
  let routed: kafkajs.Kafka;

  beforeAll(async () => {
    const admin = direct.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const brokers = await brokersOf(direct);
    proxies = await ProxySet.create({
      toxiproxyUrl: toxiproxyUrl(),
      name,
      brokers,
      portBase: 23000,
    });
    routed = kafkaClient({
      clientId: name,
      brokers: brokers.map((b) => `${b.host}:${b.port}`),
      route: proxies.route(),
      retries: 2,
      requestTimeoutMs: 3000,
    });
  });

  afterAll(async () => {
    await proxies?.remove();
    const admin = direct.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.deleteGroups([`${name}-g`]).catch(() => {});
    await admin.disconnect();
  });

  it("produces and consumes 10,000 messages with exact count and content", async () => {
    const producer = routed.producer();
    await producer.connect();
    for (let start = 0; start < COUNT; start += 1000) {
      const messages = Array.from({ length: 1000 }, (_, i) => ({
        key: String((start + i) % 16),
        value: `msg-${start + i}`,
      }));
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();

    const seen = new Map<string, number>();
    const consumer = routed.consumer({ groupId: `${name}-g`, sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let total = 0;
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const value = message.value?.toString() ?? "";
          seen.set(value, (seen.get(value) ?? 0) + 1);
          total += 1;
          if (total >= COUNT) resolve();
        },
      });
    });
    await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
    await consumer.disconnect();

    expect(total).toBe(COUNT);
    expect(seen.size).toBe(COUNT);
    for (let i = 0; i < COUNT; i += 1) expect(seen.get(`msg-${i}`)).toBe(1);
  });

  it("sees a connection error while the proxy is disabled and recovers after", async () => {
    const producer = routed.producer();
    await producer.connect();
    const send = () => producer.send({ topic, acks: -1, messages: [{ key: "k", value: "probe" }] });
    await send();

    for (const b of proxies.brokers) await proxies.setEnabled(b.nodeId, false);
    await expect(send()).rejects.toThrow(/connect|closed|ECONNREFUSED|ECONNRESET|retries/i);

    for (const b of proxies.brokers) await proxies.setEnabled(b.nodeId, true);
    await expect(send()).resolves.toBeDefined();
    await producer.disconnect();
  });
});
