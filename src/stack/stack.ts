import { randomBytes } from "node:crypto";
import { brokerProblem, refuseBusyPort, waitReady, waitToxiproxy } from "./readiness.js";
import fs from "node:fs";
import path from "node:path";
import { InfrastructureError } from "../errors.js";
import { ensureKafka, ensureToxiproxy } from "./install.js";
import {
  formattedAs,
  kafkaNodes,
  launchNode,
  mtlsPort,
  prepareNode,
  replicatesThroughProxy,
  saslSslPort,
  type KafkaNode,
} from "./kafka.js";
import {
  HOST,
  KAFKA_VERSION,
  LOCAL_POSTGRES_URL,
  POSTGRES_PORT,
  STATE_DIR,
  STATE_FILE,
  TOXIPROXY_PORT,
  replicationPort,
  replicationProxyName,
  replicationProxyPort,
} from "./paths.js";
import { makeSecureMaterial, type SecureMaterial } from "./certs.js";
import { postgresAnswers, postgresPid, startPostgres, stopPostgres } from "./postgres.js";
import { isPaused, livePid, stopPid } from "./process.js";
import {
  TOXIPROXY_URL,
  ensureProxy,
  getProxy,
  startToxiproxy,
  toxiproxyAnswers,
  toxiproxyPid,
} from "./toxiproxy.js";

export interface StackInfo {
  brokers: number;
  /** the Apache Kafka version its nodes run (absent: started before it was recorded, 4.1.1) */
  kafka?: string;
  bootstrap: string;
  toxiproxy: string;
  /** the local PostgreSQL's URL, when this `up` started or found it (--postgres) */
  postgres?: string;
  /** the secure listeners (--secure) and the env files with their settings */
  secure?: SecureInfo;
}

export interface SecureInfo {
  saslBootstrap: string;
  mtlsBootstrap: string;
  caFile: string;
  clientCert: string;
  clientKey: string;
  username: string;
  /** `source` it: KAFKA_CHAOS_* settings for the SASL_SSL (SCRAM) listeners */
  saslEnv: string;
  /** `source` it: KAFKA_CHAOS_* settings for the SSL listeners that require a client certificate */
  mtlsEnv: string;
}

export interface UpOptions {
  brokers: number;
  /** the Apache Kafka version (default: the running stack's, else KAFKA_VERSION) */
  kafka?: string;
  /** also start the local PostgreSQL (for the sink) */
  postgres?: boolean;
  /** also open SASL_SSL (SCRAM) and mutual-TLS listeners, with throwaway certificates and user */
  secure?: boolean;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * Starts whatever part of the local stack is not running yet and waits until it is really ready.
 * Nodes that are down but hold this stack's data (after a crash, `stack kill`, `stack stop`) are
 * started on that data; only `down` wipes it. Data that does not fit is refused, never wiped.
 */
export async function up(opts: UpOptions): Promise<StackInfo & { started: boolean }> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const running = readState();
  if (running && running.brokers !== opts.brokers && runningPids(running.brokers).length > 0) {
    throw new InfrastructureError(
      running.bootstrap,
      `a ${running.brokers}-broker stack is already running; run \`npm run stack:down\` first`,
    );
  }
  if (opts.secure && running && !running.secure && runningPids(running.brokers).length > 0) {
    throw new InfrastructureError(
      running.bootstrap,
      "a stack without --secure is running; run `npm run stack:down` first",
    );
  }
  const nodes = kafkaNodes(opts.brokers);
  const fresh = countNodeDirs() === 0;
  if (!fresh) refuseUnusableData(nodes, running, opts);
  const kafka = opts.kafka ?? (fresh ? undefined : running?.kafka) ?? KAFKA_VERSION;
  const [libs, toxiBin] = await Promise.all([ensureKafka(log, kafka), ensureToxiproxy(log)]);
  fs.mkdirSync(STATE_DIR, { recursive: true });
  let started = false;
  let secure = running?.secure;

  if (livePid(toxiproxyPid) === undefined) {
    await refuseBusyPort(TOXIPROXY_PORT, "Toxiproxy");
    startToxiproxy(toxiBin);
    started = true;
  }
  const down = nodes.filter((n) => livePid(n.pidFile) === undefined);
  for (const n of down) {
    await refuseBusyPort(Number(n.bootstrap.split(":")[1]), `Kafka node ${n.nodeId}`);
  }
  if (fresh) {
    const clusterId = newClusterId();
    log(
      `starting Kafka ${kafka} (${nodes.length} node${nodes.length > 1 ? "s" : ""}, KRaft) and Toxiproxy`,
    );
    const material = opts.secure
      ? await makeSecureMaterial(path.join(STATE_DIR, "certs"))
      : undefined;
    secure = material ? writeSecureEnv(material, nodes) : undefined;
    await Promise.all(nodes.map((n) => prepareNode(libs, n, nodes.length, clusterId, material)));
  } else if (down.length > 0) {
    log(
      `starting Kafka node${down.length > 1 ? "s" : ""} ${down.map((n) => n.nodeId).join(", ")} on ${down.length > 1 ? "their" : "its"} data`,
    );
  }
  // Replication proxies exist before the brokers start (and again after a Toxiproxy restart).
  await waitToxiproxy(deadline);
  await ensureReplicationProxies(nodes);
  for (const n of down) launchNode(libs, n);
  if (down.length > 0) started = true;
  // A node left paused (a broker fault of a run that was killed) would never become ready.
  for (const n of nodes) {
    const pid = livePid(n.pidFile);
    if (pid !== undefined && isPaused(pid)) {
      log(`resuming paused Kafka node ${n.nodeId}`);
      process.kill(pid, "SIGCONT");
    }
  }
  const info = { ...stackInfo(nodes), kafka, ...(secure ? { secure } : {}) };
  writeState(info);
  await waitReady(nodes, deadline, timeoutMs);
  if (!opts.postgres) return { ...info, started };
  if (livePid(postgresPid) === undefined) {
    await refuseBusyPort(POSTGRES_PORT, "PostgreSQL");
    started = true;
  }
  return { ...info, postgres: await startPostgres(log), started };
}

/**
 * Node data this `up` cannot start on: from a stack of another size, without --secure when it is
 * asked for, or not (completely) formatted. The user decides: `stack:down` wipes it.
 */
function refuseUnusableData(
  nodes: KafkaNode[],
  state: StackInfo | undefined,
  opts: UpOptions,
): void {
  const problem = dataProblem(nodes, state, opts);
  if (problem === undefined) return;
  throw new InfrastructureError(
    STATE_DIR,
    `${problem}. \`stack:up\` never wipes data: run \`npm run stack:down\` to delete it, then \`stack:up\` again`,
    { retriable: false },
  );
}

function dataProblem(
  nodes: KafkaNode[],
  state: StackInfo | undefined,
  opts: UpOptions,
): string | undefined {
  const dirs = countNodeDirs();
  if (state === undefined)
    return `holds Kafka node data (${dirs} node director${dirs > 1 ? "ies" : "y"}) but no stack.json`;
  if (state.brokers !== opts.brokers || dirs !== opts.brokers) {
    return (
      `holds the data of a ${state.brokers}-broker stack (${dirs} node director${dirs > 1 ? "ies" : "y"}), not ${opts.brokers}` +
      (dirs === state.brokers
        ? ` (\`npm run stack:up -- --brokers ${state.brokers}\` starts it again on its data)`
        : "")
    );
  }
  if (opts.secure && !state.secure) return "holds the data of a stack started without --secure";
  const was = state.kafka ?? KAFKA_VERSION;
  if (opts.kafka !== undefined && opts.kafka !== was) {
    return `holds the data of a stack running Kafka ${was}, not ${opts.kafka}`;
  }
  const clusterIds = new Set<string>();
  for (const n of nodes) {
    const meta = formattedAs(n);
    if (!meta)
      return `Kafka node ${n.nodeId} has no formatted storage (no ${path.join(n.dir, "data", "meta.properties")} or server.properties)`;
    if (meta.nodeId !== n.nodeId) return `${n.dir} holds the data of node ${meta.nodeId}`;
    clusterIds.add(meta.clusterId);
  }
  if (clusterIds.size > 1)
    return `its Kafka nodes hold different cluster ids (${[...clusterIds].join(", ")})`;
  return undefined;
}

/** Three nodes: the Toxiproxy proxy in front of each node's REPLICATION listener. */
export async function ensureReplicationProxies(nodes: KafkaNode[]): Promise<void> {
  for (const n of nodes) {
    if (!replicatesThroughProxy(n)) continue;
    await ensureProxy(
      replicationProxyName(n.nodeId),
      `${HOST}:${replicationProxyPort(n.nodeId)}`,
      `${HOST}:${replicationPort(n.nodeId)}`,
    );
  }
}

/** Stops exactly the processes the stack started (by pid file) and removes their data. */
export async function down(log: (line: string) => void = () => {}): Promise<number> {
  const state = readState();
  const nodes = kafkaNodes(state?.brokers ?? countNodeDirs());
  let stopped = 0;
  for (const n of nodes) {
    if (await stopPid(n.pidFile)) stopped += 1;
    fs.rmSync(n.dir, { recursive: true, force: true });
  }
  if (await stopPid(toxiproxyPid)) stopped += 1;
  if (await stopPostgres()) stopped += 1;
  fs.rmSync(STATE_DIR, { recursive: true, force: true });
  log(stopped > 0 ? `stopped ${stopped} process(es)` : "nothing was running");
  return stopped;
}

export interface NodeStatus {
  nodeId: number;
  bootstrap: string;
  pid?: number;
  ready: boolean;
  /** stopped by SIGSTOP (`stack pause`) */
  paused: boolean;
  /** three nodes: the proxy followers fetch from this node through */
  replication?: ReplicationStatus;
}

export interface ReplicationStatus {
  proxy: string;
  listen: string;
  /** undefined when Toxiproxy does not answer or the proxy is missing */
  enabled?: boolean;
  toxics: string[];
}

export interface Status {
  info?: StackInfo;
  kafka: NodeStatus[];
  toxiproxy: { url: string; pid?: number; ready: boolean };
  /** present when the local PostgreSQL was started (it is optional) */
  postgres?: { url: string; pid?: number; ready: boolean };
}

export async function status(): Promise<Status> {
  const state = readState();
  const nodes = kafkaNodes(state?.brokers ?? countNodeDirs());
  const toxiproxy = {
    url: TOXIPROXY_URL,
    pid: livePid(toxiproxyPid),
    ready: await toxiproxyAnswers(TOXIPROXY_URL),
  };
  const kafka = await Promise.all(
    nodes.map(async (n): Promise<NodeStatus> => {
      const pid = livePid(n.pidFile);
      const paused = pid !== undefined && isPaused(pid);
      const replication = replicatesThroughProxy(n)
        ? await replicationStatus(n.nodeId, toxiproxy.ready)
        : undefined;
      return {
        nodeId: n.nodeId,
        bootstrap: n.bootstrap,
        pid,
        // Ready: it answers and is registered itself (a killed neighbour does not make it down).
        // A stopped JVM answers nothing: no need to wait for the request to time out.
        ready: !paused && (await brokerProblem(n, 1, true)) === undefined,
        paused,
        ...(replication ? { replication } : {}),
      };
    }),
  );
  const pgPid = livePid(postgresPid);
  const postgres =
    pgPid === undefined
      ? undefined
      : { url: LOCAL_POSTGRES_URL, pid: pgPid, ready: await postgresAnswers() };
  return { info: state, kafka, toxiproxy, ...(postgres ? { postgres } : {}) };
}

async function replicationStatus(nodeId: number, toxiproxyUp: boolean): Promise<ReplicationStatus> {
  const proxy = replicationProxyName(nodeId);
  const listen = `${HOST}:${replicationProxyPort(nodeId)}`;
  const found = toxiproxyUp ? await getProxy(proxy).catch(() => undefined) : undefined;
  return {
    proxy,
    listen,
    ...(found ? { enabled: found.enabled } : {}),
    toxics: found ? found.toxics.map((t) => `${t.type}/${t.stream}`) : [],
  };
}

export function isReady(s: Status): boolean {
  return s.kafka.length > 0 && s.kafka.every((k) => k.ready && k.pid) && s.toxiproxy.ready;
}

/** A random cluster id; never starting with "-" (the format tool would read it as an option). */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url").slice(0, 22);
    if (!id.startsWith("-")) return id;
  }
}

function stackInfo(nodes: KafkaNode[]): StackInfo {
  return {
    brokers: nodes.length,
    bootstrap: nodes.map((n) => n.bootstrap).join(","),
    toxiproxy: TOXIPROXY_URL,
  };
}

function runningPids(count: number): number[] {
  return kafkaNodes(count)
    .map((n) => livePid(n.pidFile))
    .filter((p): p is number => p !== undefined);
}

export function readState(): StackInfo | undefined {
  if (!fs.existsSync(STATE_FILE)) return undefined;
  return JSON.parse(fs.readFileSync(STATE_FILE, "utf8")) as StackInfo;
}

function writeState(info: StackInfo): void {
  fs.writeFileSync(STATE_FILE, `${JSON.stringify(info, null, 2)}\n`);
}

function countNodeDirs(): number {
  if (!fs.existsSync(STATE_DIR)) return 0;
  return fs.readdirSync(STATE_DIR).filter((d) => /^kafka-\d+$/.test(d)).length;
}

/** Env files a user can `source`: every KAFKA_CHAOS_* setting for one kind of secure listener. */
function writeSecureEnv(m: SecureMaterial, nodes: KafkaNode[]): SecureInfo {
  const saslBootstrap = nodes.map((n) => `${HOST}:${saslSslPort(n.nodeId)}`).join(",");
  const mtlsBootstrap = nodes.map((n) => `${HOST}:${mtlsPort(n.nodeId)}`).join(",");
  const saslEnv = path.join(m.dir, "sasl.env");
  const mtlsEnv = path.join(m.dir, "mtls.env");
  const lines = (vars: Record<string, string>) =>
    Object.entries(vars)
      .map(([k, v]) => `export ${k}=${v}\n`)
      .join("");
  fs.writeFileSync(
    saslEnv,
    lines({
      KAFKA_CHAOS_BOOTSTRAP: saslBootstrap,
      KAFKA_CHAOS_SSL_CA: m.caFile,
      KAFKA_CHAOS_SASL_MECHANISM: "scram-sha-512",
      KAFKA_CHAOS_SASL_USERNAME: m.username,
      KAFKA_CHAOS_SASL_PASSWORD: m.password,
    }),
    { mode: 0o600 },
  );
  fs.writeFileSync(
    mtlsEnv,
    lines({
      KAFKA_CHAOS_BOOTSTRAP: mtlsBootstrap,
      KAFKA_CHAOS_SSL_CA: m.caFile,
      KAFKA_CHAOS_SSL_CERT: m.clientCert,
      KAFKA_CHAOS_SSL_KEY: m.clientKey,
    }),
    { mode: 0o600 },
  );
  const { caFile, clientCert, clientKey, username } = m;
  return {
    saslBootstrap,
    mtlsBootstrap,
    caFile,
    clientCert,
    clientKey,
    username,
    saslEnv,
    mtlsEnv,
  };
}
