/**
 * Control of the local stack's Kafka nodes for broker faults: kill, stop, start on their data,
 * pause, resume, and cut or slow the replication traffic from a node (three-node stack).
 * Works on the stack of this process's KAFKA_CHAOS_STACK_DIR / KAFKA_CHAOS_PORT_OFFSET.
 */
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { InfrastructureError, UsageError } from "../errors.js";
import { ensureKafka } from "./install.js";
import {
  dataDir,
  formattedAs,
  kafkaNodes,
  launchNode,
  replicatesThroughProxy,
  type KafkaNode,
} from "./kafka.js";
import {
  HOST,
  LOCAL_POSTGRES_URL,
  STACK_PROXY_PREFIX,
  STATE_DIR,
  replicationProxyName,
  replicationPort,
  replicationProxyPort,
} from "./paths.js";
import { isGone, isPaused, livePid } from "./process.js";
import { readState } from "./stack.js";
import { postgresPid } from "./postgres.js";
import { releaseLease, takeLease } from "./leases.js";
import { brokerProblem, refuseBusyPort } from "./readiness.js";
import {
  TOXIPROXY_URL,
  ensureProxy,
  getProxy,
  setProxyEnabled,
  setProxyLatency,
  toxiproxyAnswers,
} from "./toxiproxy.js";

export interface LocalNode {
  nodeId: number;
  bootstrap: string;
  /** the running JVM's pid; undefined when the node is down */
  pid?: number;
  /** three nodes: the Toxiproxy proxy followers fetch from this node through */
  replicationProxy?: string;
}

/** The local stack from its state file; undefined when there is none. */
export function localStack():
  { brokers: number; bootstrap: string; toxiproxy: string } | undefined {
  const state = readState();
  if (!state) return undefined;
  return { brokers: state.brokers, bootstrap: state.bootstrap, toxiproxy: state.toxiproxy };
}

/** The local stack's PostgreSQL URL while it runs one; undefined otherwise. */
export function localPostgres(): string | undefined {
  return livePid(postgresPid) === undefined ? undefined : LOCAL_POSTGRES_URL;
}

export function localNodes(): LocalNode[] {
  const state = readState();
  if (!state) return [];
  return kafkaNodes(state.brokers).map((n) => {
    const pid = livePid(n.pidFile);
    return {
      nodeId: n.nodeId,
      bootstrap: n.bootstrap,
      ...(pid !== undefined ? { pid } : {}),
      ...(replicatesThroughProxy(n) ? { replicationProxy: replicationProxyName(n.nodeId) } : {}),
    };
  });
}

/**
 * The active KRaft controller: the quorum leader with the highest epoch in the nodes'
 * quorum-state files (Kafka tells clients a random broker as "controller" under KRaft).
 */
export async function controllerNode(): Promise<number> {
  const state = readState();
  let best: { leaderId: number; leaderEpoch: number } | undefined;
  for (const node of state ? kafkaNodes(state.brokers) : []) {
    const file = path.join(dataDir(node), "__cluster_metadata-0", "quorum-state");
    try {
      const quorum = JSON.parse(fs.readFileSync(file, "utf8")) as {
        leaderId: number;
        leaderEpoch: number;
      };
      if (quorum.leaderId >= 0 && (!best || quorum.leaderEpoch > best.leaderEpoch)) best = quorum;
    } catch {
      // a node that has not written one yet
    }
  }
  if (!best) throw new Error("the local stack's controller is not known yet");
  return best.leaderId;
}

/** SIGKILL; returns once the process is gone. Nothing to do when the node is down. */
export async function killNode(nodeId: number): Promise<void> {
  const node = nodeOf(nodeId);
  const pid = livePid(node.pidFile);
  if (pid === undefined) return;
  signal(node, pid, "SIGKILL");
  await waitGone(node, pid, 10_000);
}

/**
 * SIGTERM: a controlled shutdown (leadership moves away first). Waits for the exit, SIGKILL after
 * `graceMs` (60 s). A paused node is resumed so that it can act on the signal.
 */
export async function stopNode(nodeId: number, graceMs = 60_000): Promise<void> {
  const node = nodeOf(nodeId);
  const pid = livePid(node.pidFile);
  if (pid === undefined) return;
  signal(node, pid, "SIGTERM");
  if (isPaused(pid)) signal(node, pid, "SIGCONT");
  const deadline = Date.now() + graceMs;
  while (running(pid) && Date.now() < deadline) await sleep(100);
  if (running(pid)) signal(node, pid, "SIGKILL");
  await waitGone(node, pid, 10_000);
}

/**
 * Starts a down node on its existing data (no format) and resolves once it answers metadata
 * requests and is registered (unfenced). Nothing to do when it runs.
 */
export async function startNode(nodeId: number, opts: { timeoutMs?: number } = {}): Promise<void> {
  const node = nodeOf(nodeId);
  if (livePid(node.pidFile) !== undefined) return;
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  if (!formattedAs(node)) {
    throw new InfrastructureError(
      node.bootstrap,
      `Kafka node ${nodeId} has no formatted data in ${node.dir}; run \`npm run stack:up\``,
      { retriable: false },
    );
  }
  if (replicatesThroughProxy(node)) {
    if (!(await toxiproxyAnswers(TOXIPROXY_URL))) {
      throw new InfrastructureError(
        TOXIPROXY_URL,
        `Toxiproxy is down, and Kafka node ${nodeId} replicates through it; run \`npm run stack:up\``,
      );
    }
    await ensureProxy(
      replicationProxyName(nodeId),
      `${HOST}:${replicationProxyPort(nodeId)}`,
      `${HOST}:${replicationPort(nodeId)}`,
    );
  }
  await refuseBusyPort(Number(node.bootstrap.split(":")[1]), `Kafka node ${nodeId}`);
  const libs = await ensureKafka(() => {}, readState()?.kafka);
  launchNode(libs, node);
  let problem = await brokerProblem(node, 1, true);
  while (problem !== undefined) {
    if (livePid(node.pidFile) === undefined) {
      throw new InfrastructureError(
        node.bootstrap,
        `Kafka node ${nodeId} exited during start-up; read ${node.logFile}`,
      );
    }
    if (Date.now() > deadline) {
      throw new InfrastructureError(
        node.bootstrap,
        `Kafka node ${nodeId} not ready after ${timeoutMs / 1000}s (${problem}); read ${node.logFile}`,
      );
    }
    await sleep(300);
    problem = await brokerProblem(node, 1, true);
  }
}

/** SIGSTOP: the JVM freezes with its sockets open (a long GC pause, a hung disk). */
export async function pauseNode(nodeId: number): Promise<void> {
  const node = nodeOf(nodeId);
  const pid = runningPid(node, "pause");
  signal(node, pid, "SIGSTOP");
  const deadline = Date.now() + 5000;
  while (!isPaused(pid) && !isGone(pid) && Date.now() < deadline) await sleep(20);
}

/** SIGCONT. */
export async function resumeNode(nodeId: number): Promise<void> {
  const node = nodeOf(nodeId);
  const pid = runningPid(node, "resume");
  signal(node, pid, "SIGCONT");
  const deadline = Date.now() + 5000;
  while (isPaused(pid) && Date.now() < deadline) await sleep(20);
}

/** Disables the node's replication proxy: no follower can fetch from it (its clients still can). */
export async function isolateNode(nodeId: number): Promise<void> {
  const proxy = await replicationProxyOf(nodeOf(nodeId));
  // The lease says which process holds the proxy down: `cleanup` heals it once that is gone.
  takeLease(proxy);
  await setProxyEnabled(proxy, false);
}

/** Enables the node's replication proxy again. */
export async function healNode(nodeId: number): Promise<void> {
  const proxy = await replicationProxyOf(nodeOf(nodeId));
  await setProxyEnabled(proxy, true);
  releaseLease(proxy);
}

/** The stack's own proxies (replication), by name: they are never a run's to remove. */
export function isStackProxy(name: string): boolean {
  return name.startsWith(STACK_PROXY_PREFIX);
}

/** Adds (ms) or removes (undefined) latency on what followers fetch from the node. */
export async function setReplicationLatency(nodeId: number, ms: number | undefined): Promise<void> {
  if (ms !== undefined && (!Number.isInteger(ms) || ms < 0)) {
    throw new UsageError(`replication latency: expected whole milliseconds >= 0, got ${ms}`);
  }
  await setProxyLatency(await replicationProxyOf(nodeOf(nodeId)), ms);
}

function nodeOf(nodeId: number): KafkaNode {
  const state = readState();
  if (!state) {
    throw new InfrastructureError(
      STATE_DIR,
      "no local stack here (no stack.json); run `npm run stack:up`",
      { retriable: false },
    );
  }
  if (!Number.isInteger(nodeId) || nodeId < 1 || nodeId > state.brokers) {
    throw new UsageError(
      `no Kafka node ${nodeId}: the local stack has ${state.brokers === 1 ? "node 1" : `nodes 1-${state.brokers}`}`,
    );
  }
  return kafkaNodes(state.brokers)[nodeId - 1] as KafkaNode;
}

function runningPid(node: KafkaNode, what: string): number {
  const pid = livePid(node.pidFile);
  if (pid === undefined) {
    throw new InfrastructureError(
      node.bootstrap,
      `cannot ${what} Kafka node ${node.nodeId}: it is not running; read ${node.logFile}`,
      { retriable: false },
    );
  }
  return pid;
}

function signal(node: KafkaNode, pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return; // gone meanwhile
    throw new InfrastructureError(
      node.bootstrap,
      `${sig} to Kafka node ${node.nodeId} (pid ${pid}) failed: ${(err as Error).message}; read ${node.logFile}`,
    );
  }
}

/** Not exited (a killed node may wait for its reaper as a zombie: that is gone for us). */
const running = (pid: number): boolean => !isGone(pid);

async function waitGone(node: KafkaNode, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (running(pid)) {
    if (Date.now() > deadline) {
      throw new InfrastructureError(
        node.bootstrap,
        `Kafka node ${node.nodeId} (pid ${pid}) still runs ${timeoutMs / 1000}s after SIGKILL; read ${node.logFile}`,
      );
    }
    await sleep(20);
  }
  fs.rmSync(node.pidFile, { force: true });
}

async function replicationProxyOf(node: KafkaNode): Promise<string> {
  if (!replicatesThroughProxy(node)) {
    throw new InfrastructureError(
      node.bootstrap,
      `Kafka node ${node.nodeId} has no replication proxy: only a three-node stack ` +
        `(\`stack:up -- --brokers 3\`) routes replication through Toxiproxy; read ${node.logFile}`,
      { retriable: false },
    );
  }
  const name = replicationProxyName(node.nodeId);
  if (!(await getProxy(name))) {
    throw new InfrastructureError(
      TOXIPROXY_URL,
      `the replication proxy ${name} of Kafka node ${node.nodeId} is missing (Toxiproxy restarted?); run \`npm run stack:up -- --brokers 3\` to recreate it`,
      { retriable: false },
    );
  }
  return name;
}

/** The run's cluster is the local stack: every broker address is one of its nodes. */
export function isLocalStack(brokers: { host: string; port: number }[]): boolean {
  if (!localStack()) return false;
  const local = new Set(localNodes().map((n) => n.bootstrap));
  return brokers.length > 0 && brokers.every((b) => local.has(`${b.host}:${b.port}`));
}
