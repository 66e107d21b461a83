/** Waiting for the local stack to come up, and what stops a node from being ready. */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import kafkajs from "kafkajs";
import { InfrastructureError } from "../errors.js";
import { type KafkaNode } from "./kafka.js";
import { HOST } from "./paths.js";
import { livePid } from "./process.js";
import { TOXIPROXY_URL, toxiproxyAnswers, toxiproxyLog, toxiproxyPid } from "./toxiproxy.js";

export async function waitToxiproxy(deadline: number): Promise<void> {
  while (!(await toxiproxyAnswers(TOXIPROXY_URL))) {
    if (Date.now() > deadline || livePid(toxiproxyPid) === undefined) {
      throw new InfrastructureError(
        TOXIPROXY_URL,
        `Toxiproxy did not come up; read ${toxiproxyLog}`,
      );
    }
    await sleep(200);
  }
}

export async function waitReady(
  nodes: KafkaNode[],
  deadline: number,
  timeoutMs: number,
): Promise<void> {
  await waitToxiproxy(deadline);
  for (const n of nodes) {
    let problem = await brokerProblem(n, nodes.length);
    while (problem !== undefined) {
      if (livePid(n.pidFile) === undefined) {
        throw new InfrastructureError(
          n.bootstrap,
          `Kafka node ${n.nodeId} exited during start-up; read ${n.logFile}`,
        );
      }
      if (Date.now() > deadline) {
        throw new InfrastructureError(
          n.bootstrap,
          `Kafka node ${n.nodeId} not ready after ${timeoutMs / 1000}s (${problem}); read ${n.logFile}`,
        );
      }
      await sleep(500);
      problem = await brokerProblem(n, nodes.length);
    }
  }
}

/** Undefined when a metadata request to this broker succeeds and shows the whole cluster. */
export async function brokerProblem(
  node: KafkaNode,
  expected: number,
  requireNode = false,
): Promise<string | undefined> {
  const admin = new kafkajs.Kafka({
    clientId: "kafka-chaos-stack",
    brokers: [node.bootstrap],
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length < expected) {
      return `${cluster.brokers.length}/${expected} brokers registered`;
    }
    if (requireNode && !cluster.brokers.some((b) => b.nodeId === node.nodeId)) {
      return `node ${node.nodeId} not registered (fenced) yet`;
    }
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export async function refuseBusyPort(port: number, what: string): Promise<void> {
  const busy = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
  if (busy) {
    throw new InfrastructureError(
      `${HOST}:${port}`,
      `already in use by a process this stack did not start; cannot start ${what}`,
    );
  }
}
