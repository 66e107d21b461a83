import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { InfrastructureError } from "../errors.js";
import { HOST, STATE_DIR, brokerPort, controllerPort } from "./paths.js";
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

export interface KafkaNode {
  nodeId: number;
  dir: string;
  bootstrap: string;
  logFile: string;
  pidFile: string;
}

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

function serverProperties(node: KafkaNode, count: number): string {
  const voters = Array.from(
    { length: count },
    (_, i) => `${i + 1}@${HOST}:${controllerPort(i + 1)}`,
  ).join(",");
  const rf = Math.min(count, 3);
  const minIsr = count >= 3 ? 2 : 1;
  return [
    "process.roles=broker,controller",
    `node.id=${node.nodeId}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://${HOST}:${brokerPort(node.nodeId)},CONTROLLER://${HOST}:${controllerPort(node.nodeId)}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${brokerPort(node.nodeId)}`,
    "controller.listener.names=CONTROLLER",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",
    `log.dirs=${path.join(node.dir, "data")}`,
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

/** Writes config and formats storage for a fresh node (data from an earlier stack is wiped). */
export async function prepareNode(
  libs: string,
  node: KafkaNode,
  count: number,
  clusterId: string,
): Promise<void> {
  fs.rmSync(node.dir, { recursive: true, force: true });
  fs.mkdirSync(node.dir, { recursive: true });
  fs.writeFileSync(path.join(node.dir, "server.properties"), serverProperties(node, count));
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

export function startNode(libs: string, node: KafkaNode): number {
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
