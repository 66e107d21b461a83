import type { Route } from "../clients/kafkajs.js";
import { connectionFromWorkerEnv } from "../clients/connection.js";
import type { ClientName, Profile } from "../profiles/schema.js";
import type { SinkConfig } from "../sinks/index.js";
import type { ProcessorEngine } from "./engine.js";
import { kafkajsEngine } from "./kafkajs.js";
import { librdkafkaEngine } from "./librdkafka.js";

/** Everything a worker process needs; passed as JSON by the pool. */
export interface WorkerConfig {
  /** "<slot>.<incarnation>" */
  worker: string;
  slot: number;
  runId: string;
  brokers: string[];
  route: [string, { host: string; port: number }][];
  inputTopic: string;
  /** where the processed records go: an output topic, or (sink set) an external sink */
  outputTopic?: string;
  /** the location of a postgres sink comes from the environment (SINK_URL_ENV), not this file */
  sink?: SinkConfig;
  groupId: string;
  transactionalId: string;
  /** the client library the worker runs on */
  client: ClientName;
  settings: Profile["processor"];
  requestTimeoutMs: number;
  historyFile: string;
  /** epoch ms the run started, so history times line up with the run's */
  runStartedAt: number;
  /** crash this incarnation with SIGKILL at `point` once it has processed `after` messages */
  crash?: { point: string; after: number };
  seed: number;
}

/** Messages a worker sends its pool over IPC. */
export type WorkerMessage =
  | { type: "joined" }
  | { type: "batch"; partition: number; lastOffset: number; processed: number }
  | { type: "fatal"; error: string };

/** Exit code of a worker that stopped itself after an error it cannot recover from in place. */
export const EXIT_RESTART = 75;

/** The worker's client library, connected the way that library can be routed. */
export function engineOf(config: WorkerConfig): ProcessorEngine {
  const s = config.settings;
  const settings = {
    clientId: `${config.groupId}-${config.worker}`,
    brokers: config.brokers,
    inputTopic: config.inputTopic,
    groupId: config.groupId,
    transactionalId: config.transactionalId,
    requestTimeoutMs: config.requestTimeoutMs,
    sessionTimeoutMs: s.sessionTimeoutMs,
    heartbeatIntervalMs: s.heartbeatIntervalMs,
    readCommitted: s.isolation === "read_committed",
    autoCommitIntervalMs: s.commit === "auto" ? s.autoCommitIntervalMs : null,
    batchSize: s.batchSize,
  };
  const connection = connectionFromWorkerEnv();
  return config.client === "librdkafka"
    ? librdkafkaEngine(settings, connection)
    : kafkajsEngine(settings, new Map(config.route) as Route, connection);
}
