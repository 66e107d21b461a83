import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";

/** The Kafka version of a stack started without `--kafka`. */
export const KAFKA_VERSION = "4.1.1";
export const TOXIPROXY_VERSION = "2.12.0";

/** Package root: this module lives in src/stack/ or dist/stack/. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Downloads (jars, binaries) are kept here across runs; the running stack's state lives below it. */
export const CACHE_DIR = process.env.KAFKA_CHAOS_CACHE ?? path.join(ROOT, ".cache");
export const kafkaLibs = (version: string): string =>
  path.join(CACHE_DIR, `kafka-${version}`, "libs");
/** Kafka's tools (ProducerPerformance, the bench's ceiling); not needed by the stack itself. */
export const kafkaToolsLibs = (version: string): string =>
  path.join(CACHE_DIR, `kafka-tools-${version}`, "libs");
export const TOXIPROXY_BIN = path.join(CACHE_DIR, "bin", `toxiproxy-server-${TOXIPROXY_VERSION}`);
/**
 * The running stack's state (configs, data, logs, pid files). A second stack can run beside the
 * first with its own KAFKA_CHAOS_STACK_DIR and a KAFKA_CHAOS_PORT_OFFSET; downloads are shared.
 */
export const STATE_DIR = process.env.KAFKA_CHAOS_STACK_DIR
  ? path.resolve(process.env.KAFKA_CHAOS_STACK_DIR)
  : path.join(CACHE_DIR, "stack");
export const STATE_FILE = path.join(STATE_DIR, "stack.json");

/** Added to every port of the stack (KAFKA_CHAOS_PORT_OFFSET, default 0). */
export const PORT_OFFSET = portOffset(process.env.KAFKA_CHAOS_PORT_OFFSET);

export const HOST = "127.0.0.1";
export const TOXIPROXY_PORT = 8474 + PORT_OFFSET;
export const brokerPort = (nodeId: number): number => 9091 + PORT_OFFSET + nodeId;
export const controllerPort = (nodeId: number): number => 19091 + PORT_OFFSET + nodeId;
/** Three nodes: each broker's REPLICATION listener (inter-broker traffic only)... */
export const replicationPort = (nodeId: number): number => 9391 + PORT_OFFSET + nodeId;
/** ...and the Toxiproxy proxy in front of it, the address the broker advertises for replication. */
export const replicationProxyPort = (nodeId: number): number => 9491 + PORT_OFFSET + nodeId;
/** What every proxy the stack itself owns is named by (never `kc-…`: `cleanup` removes those). */
export const STACK_PROXY_PREFIX = "kafka-chaos-stack-";
/** Name of node N's replication proxy. */
export const replicationProxyName = (nodeId: number): string =>
  `${STACK_PROXY_PREFIX}replication-${nodeId}`;
/**
 * Routed listeners come in slots, so that as many runs at once each route a role through their
 * own proxies: slot k of every broker advertises its own proxy addresses, and a run leases one
 * slot for its life (stack/listener-slots.ts).
 */
export const LISTENER_SLOTS = 4;
/**
 * Each broker's APP listener of a slot, for the user's own app under test (or the librdkafka
 * processor): bound here, advertised at appProxyPort, where a run puts its Toxiproxy proxy.
 */
export const appListenerPort = (nodeId: number, slot = 0): number =>
  9591 + PORT_OFFSET + 10 * slot + nodeId;
export const appProxyPort = (nodeId: number, slot = 0): number =>
  9691 + PORT_OFFSET + 10 * slot + nodeId;
/** Each broker's PRODUCER listener of a slot, for a producer without a socket factory (librdkafka). */
export const producerListenerPort = (nodeId: number, slot = 0): number =>
  9791 + PORT_OFFSET + 10 * slot + nodeId;
export const producerProxyPort = (nodeId: number, slot = 0): number =>
  9891 + PORT_OFFSET + 10 * slot + nodeId;
export const POSTGRES_PORT = 5433 + PORT_OFFSET;
export const POSTGRES_USER = "kafka_chaos";
/** The local stack's PostgreSQL (`stack:up --postgres`): trust auth, the default database. */
export const LOCAL_POSTGRES_URL = `postgres://${POSTGRES_USER}@${HOST}:${POSTGRES_PORT}/postgres`;

function portOffset(value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 20_000) {
    throw new UsageError(
      `KAFKA_CHAOS_PORT_OFFSET: expected a whole number 0-20000, got "${value}"`,
    );
  }
  return n;
}
