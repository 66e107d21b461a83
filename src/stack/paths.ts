import path from "node:path";
import { fileURLToPath } from "node:url";

export const KAFKA_VERSION = "4.1.1";
export const TOXIPROXY_VERSION = "2.12.0";

/** Package root: this module lives in src/stack/ or dist/stack/. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Downloads (jars, binaries) are kept here across runs; the running stack's state lives below it. */
export const CACHE_DIR = process.env.KAFKA_CHAOS_CACHE ?? path.join(ROOT, ".cache");
export const KAFKA_LIBS = path.join(CACHE_DIR, `kafka-${KAFKA_VERSION}`, "libs");
export const TOXIPROXY_BIN = path.join(CACHE_DIR, "bin", `toxiproxy-server-${TOXIPROXY_VERSION}`);
export const STATE_DIR = path.join(CACHE_DIR, "stack");
export const STATE_FILE = path.join(STATE_DIR, "stack.json");

export const HOST = "127.0.0.1";
export const TOXIPROXY_PORT = 8474;
export const brokerPort = (nodeId: number): number => 9091 + nodeId;
export const controllerPort = (nodeId: number): number => 19091 + nodeId;
export const POSTGRES_PORT = 5433;
export const POSTGRES_USER = "kafka_chaos";
/** The local stack's PostgreSQL (`stack:up --postgres`): trust auth, the default database. */
export const LOCAL_POSTGRES_URL = `postgres://${POSTGRES_USER}@${HOST}:${POSTGRES_PORT}/postgres`;
