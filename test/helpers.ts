import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import kafkajs from "kafkajs";
import type { Broker } from "../src/faults/proxies.js";
import { kafkaClient } from "../src/workload/client.js";

export const bootstrap = (): string => inject("bootstrap");
export const toxiproxyUrl = (): string => inject("toxiproxyUrl");

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** A client straight to the cluster, no proxy: for setup, checks and cleanup. */
export function directClient(): kafkajs.Kafka {
  return kafkaClient({ clientId: "kafka-chaos-test", brokers: bootstrap().split(",") });
}

export async function brokersOf(kafka: kafkajs.Kafka): Promise<Broker[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    return brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port }));
  } finally {
    await admin.disconnect();
  }
}
