import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { InfrastructureError } from "../errors.js";
import {
  HOST,
  PORT_OFFSET,
  STATE_DIR,
  brokerPort,
  controllerPort,
  replicationPort,
  replicationProxyPort,
  appListenerPort,
  appProxyPort,
  producerListenerPort,
  producerProxyPort,
  LISTENER_SLOTS,
} from "./paths.js";
import type { SecureMaterial } from "./certs.js";
import { startDetached } from "./process.js";

const run = promisify(execFile);

const LOG4J2 = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
`;

/** Secure listeners of `stack:up --secure`: SASL_SSL (SCRAM) and SSL with client certificates. */
export const saslSslPort = (nodeId: number): number => 9191 + PORT_OFFSET + nodeId;
export const mtlsPort = (nodeId: number): number => 9291 + PORT_OFFSET + nodeId;

export interface KafkaNode {
  nodeId: number;
  dir: string;
  bootstrap: string;
  logFile: string;
  pidFile: string;
}

/** Where a node keeps its logs (log.dirs), the KRaft metadata log included. */
export const dataDir = (node: KafkaNode): string => path.join(node.dir, "data");

export function kafkaNodes(count: number): KafkaNode[] {
  return Array.from({ length: count }, (_, i) => {
    const nodeId = i + 1;
    const dir = path.join(STATE_DIR, `kafka-${nodeId}`);
    return {
      nodeId,
      dir,
      bootstrap: `${HOST}:${brokerPort(nodeId)}`,
      logFile: path.join(dir, "kafka.log"),
      pidFile: path.join(dir, "kafka.pid"),
    };
  });
}

function serverProperties(node: KafkaNode, count: number, secure?: SecureMaterial): string {
  const voters = Array.from(
    { length: count },
    (_, i) => `${i + 1}@${HOST}:${controllerPort(i + 1)}`,
  ).join(",");
  const rf = Math.min(count, 3);
  const minIsr = count >= 3 ? 2 : 1;
  const replicated = count >= 3;
  const protocols = [
    "PLAINTEXT:PLAINTEXT",
    "CONTROLLER:PLAINTEXT",
    ...slots().flatMap((k) => [
      `${listenerName(APP_LISTENER, k)}:PLAINTEXT`,
      `${listenerName(PRODUCER_LISTENER, k)}:PLAINTEXT`,
    ]),
    ...(replicated ? ["REPLICATION:PLAINTEXT"] : []),
    ...(secure ? ["SASL_SSL:SASL_SSL", "SSL:SSL"] : []),
  ];
  return [
    "process.roles=broker,controller",
    `node.id=${node.nodeId}`,
    `controller.quorum.voters=${voters}`,
    `listeners=${listeners(node, replicated, secure, true)}`,
    `advertised.listeners=${listeners(node, replicated, secure, false)}`,
    "controller.listener.names=CONTROLLER",
    `listener.security.protocol.map=${protocols.join(",")}`,
    ...(secure ? secureProperties(secure) : []),
    // Three nodes: followers fetch through Toxiproxy (the REPLICATION listener is advertised at
    // the node's replication proxy), so a proxy fault cuts or slows replication from that node.
    `inter.broker.listener.name=${replicated ? REPLICATION_LISTENER : "PLAINTEXT"}`,
    ...(replicated ? FAILOVER_PROPERTIES : []),
    `log.dirs=${dataDir(node)}`,
    "num.partitions=3",
    "auto.create.topics.enable=false",
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${minIsr}`,
    // Without these a small cluster never gets a group or transaction coordinator.
    `offsets.topic.replication.factor=${rf}`,
    "offsets.topic.num.partitions=8",
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${minIsr}`,
    "transaction.state.log.num.partitions=8",
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

/**
 * Name of the listener the user's app (or the librdkafka processor) reaches the brokers on,
 * through a run's proxies.
 */
export const APP_LISTENER = "APP";
/** Name of the listener the librdkafka producer reaches the brokers on, through a run's proxies. */
export const PRODUCER_LISTENER = "PRODUCER";

/** A routed listener's name in a slot: APP, APP1, APP2, … */
export const listenerName = (base: string, slot: number): string =>
  slot === 0 ? base : `${base}${slot}`;

const slots = () => Array.from({ length: LISTENER_SLOTS }, (_, k) => k);

/** Name of the inter-broker listener of a three-node stack. */
export const REPLICATION_LISTENER = "REPLICATION";

/**
 * Three nodes: failover and ISR changes within seconds, so a run of a minute or two sees them
 * (README, "Three brokers and broker faults", says why each one).
 */
const FAILOVER_PROPERTIES = [
  "replica.lag.time.max.ms=5000",
  "broker.heartbeat.interval.ms=500",
  "broker.session.timeout.ms=3000",
  "leader.imbalance.check.interval.seconds=10",
];

function listeners(
  node: KafkaNode,
  replicated: boolean,
  secure: SecureMaterial | undefined,
  bind: boolean,
): string {
  const id = node.nodeId;
  // Brokers must not advertise the controller listener (KAFKA-13456); the replication listener
  // is bound on its own port and advertised at the proxy in front of it.
  return [
    `PLAINTEXT://${HOST}:${brokerPort(id)}`,
    ...(bind ? [`CONTROLLER://${HOST}:${controllerPort(id)}`] : []),
    ...slots().flatMap((k) => [
      `${listenerName(APP_LISTENER, k)}://${HOST}:${bind ? appListenerPort(id, k) : appProxyPort(id, k)}`,
      `${listenerName(PRODUCER_LISTENER, k)}://${HOST}:${bind ? producerListenerPort(id, k) : producerProxyPort(id, k)}`,
    ]),
    ...(replicated
      ? [
          `${REPLICATION_LISTENER}://${HOST}:${bind ? replicationPort(id) : replicationProxyPort(id)}`,
        ]
      : []),
    ...(secure ? [`SASL_SSL://${HOST}:${saslSslPort(id)}`, `SSL://${HOST}:${mtlsPort(id)}`] : []),
  ].join(",");
}

function secureProperties(secure: SecureMaterial): string[] {
  const scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  return [
    "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scram}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scram}`,
    "ssl.keystore.type=PEM",
    `ssl.keystore.location=${secure.brokerKeystore}`,
    "ssl.truststore.type=PEM",
    `ssl.truststore.location=${secure.caFile}`,
    "listener.name.ssl.ssl.client.auth=required",
  ];
}

/** Writes config and formats storage for a fresh node (data from an earlier stack is wiped). */
export async function prepareNode(
  libs: string,
  node: KafkaNode,
  count: number,
  clusterId: string,
  secure?: SecureMaterial,
): Promise<void> {
  fs.rmSync(node.dir, { recursive: true, force: true });
  fs.mkdirSync(node.dir, { recursive: true });
  fs.writeFileSync(path.join(node.dir, "server.properties"), serverProperties(node, count, secure));
  // SCRAM users of a KRaft cluster are created at format time.
  const scram = secure
    ? ["SCRAM-SHA-256", "SCRAM-SHA-512"].flatMap((m) => [
        "--add-scram",
        `${m}=[name=${secure.username},password=${secure.password}]`,
      ])
    : [];
  fs.writeFileSync(path.join(node.dir, "log4j2.yaml"), LOG4J2);
  try {
    await run(
      "java",
      [
        ...javaArgs(libs, node),
        "kafka.tools.StorageTool",
        "format",
        "-t",
        clusterId,
        "-c",
        propsFile(node),
        ...scram,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    throw new InfrastructureError(
      node.bootstrap,
      `formatting Kafka node ${node.nodeId} failed: ${(e.stderr || e.stdout || String(err)).trim()}`,
    );
  }
}

/** The cluster and node id a node's storage was formatted with, undefined when it was not. */
export function formattedAs(node: KafkaNode): { clusterId: string; nodeId: number } | undefined {
  const file = path.join(node.dir, "data", "meta.properties");
  if (!fs.existsSync(file) || !fs.existsSync(propsFile(node))) return undefined;
  const props = new Map<string, string>();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#"))
      props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const clusterId = props.get("cluster.id");
  const nodeId = Number(props.get("node.id"));
  if (!clusterId || !Number.isInteger(nodeId)) return undefined;
  return { clusterId, nodeId };
}

/** Whether the node was configured with the listener (stacks started before it was added were not). */
export function hasListener(node: KafkaNode, name: string): boolean {
  const file = propsFile(node);
  return fs.existsSync(file) && fs.readFileSync(file, "utf8").includes(`${name}://`);
}

/** True when the node's config sends inter-broker traffic through its replication proxy. */
export function replicatesThroughProxy(node: KafkaNode): boolean {
  const file = propsFile(node);
  return (
    fs.existsSync(file) &&
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .includes(`inter.broker.listener.name=${REPLICATION_LISTENER}`)
  );
}

/** Starts a formatted node on its data (config and storage as they are). Returns its pid. */
export function launchNode(libs: string, node: KafkaNode): number {
  const args = [
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    ...javaArgs(libs, node),
    "kafka.Kafka",
    propsFile(node),
  ];
  return startDetached("java", args, node.logFile, node.pidFile);
}

function javaArgs(libs: string, node: KafkaNode): string[] {
  return [
    "-cp",
    `${libs}/*`,
    `-Dlog4j2.configurationFile=${path.join(node.dir, "log4j2.yaml")}`,
    `-Dkafka.logs.dir=${node.dir}`,
  ];
}

const propsFile = (node: KafkaNode): string => path.join(node.dir, "server.properties");
