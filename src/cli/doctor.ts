import fs from "node:fs";
import path from "node:path";
import chalk from "chalk";
import { ProxySet } from "../faults/proxies.js";
import { Cluster } from "../run/cluster.js";
import type kafkajs from "kafkajs";
import { initTransactions, kafkaClient } from "../clients/kafkajs.js";
import { connectionFrom, type Connection, type ConnectionFlags } from "../clients/connection.js";
import { errorText } from "../errors.js";
import { LIBRDKAFKA } from "../clients/librdkafka.js";
import { readerProblem } from "../reader/offsets.js";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Checks what a run needs; one ✓/✗ line each, with the fix for each ✗. Exit 0 or 3. */
export async function doctorCommand(
  flags: {
    bootstrap: string;
    toxiproxy: string;
    topicPrefix?: string;
    proxyHost?: string;
    proxyPorts?: number;
  } & ConnectionFlags,
): Promise<number> {
  const checks: Check[] = [];
  const brokers = flags.bootstrap.split(",");
  const connection = connectionFrom(flags);
  const direct = kafkaClient({
    clientId: "kafka-chaos-doctor",
    brokers,
    retries: 1,
    connectionTimeoutMs: 2000,
    connection,
  });
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.connect(direct, flags.bootstrap);
    const list = cluster.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(", ");
    checks.push({
      name: "Kafka cluster",
      ok: true,
      detail: `${cluster.brokers.length} broker(s): ${list}; controller ${controllerOf(cluster)}`,
    });
  } catch (err) {
    checks.push({
      name: "Kafka cluster",
      ok: false,
      detail: (err as Error).message,
      fix: "start it (npm run stack:up for the local one) or pass --bootstrap host:port",
    });
  }
  if (cluster) {
    const base = flags.topicPrefix ?? "kc";
    const prefix = `${base}-doctor-${process.pid}-${Date.now()}`;
    checks.push(await topicCheck(cluster, base, prefix));
    checks.push(await transactionsCheck(direct, prefix));
    checks.push(await readerCheck(flags.bootstrap, connection));
    const proxy = { host: flags.proxyHost, portBase: flags.proxyPorts };
    checks.push(await proxyCheck(flags.toxiproxy, cluster, connection, proxy));
  }
  checks.push(runDirCheck());
  await cluster?.close();
  for (const c of checks) {
    console.log(`${c.ok ? chalk.green("✓") : chalk.red("✗")} ${c.name}: ${c.detail}`);
    if (!c.ok && c.fix) console.log(`    fix: ${c.fix}`);
  }
  return checks.every((c) => c.ok) ? 0 : 3;
}

/** The run's topics can be created (and deleted) under the default kc- prefix. */
async function topicCheck(cluster: Cluster, base: string, prefix: string): Promise<Check> {
  const name = "topic permissions";
  const probe = `${prefix}-probe`;
  try {
    await cluster.createTopic(probe, 1, 1);
    await cluster.deleteOwn(prefix, [probe], []);
    return {
      name,
      ok: true,
      detail: `may create and delete topics under ${base}-`,
    };
  } catch (err) {
    return {
      name,
      ok: false,
      detail: (err as Error).message,
      fix: "grant Create/Delete on topics (and Write on transactional ids) with the run prefix",
    };
  }
}

/** Idempotent and transactional producers work (a transactional id under the prefix). */
async function transactionsCheck(kafka: kafkajs.Kafka, prefix: string): Promise<Check> {
  const name = "idempotence and transactions";
  const producer = kafka.producer({
    transactionalId: `${prefix}-tx`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  try {
    await producer.connect();
    await initTransactions(producer);
    return { name, ok: true, detail: "a transactional producer initialised" };
  } catch (err) {
    return {
      name,
      ok: false,
      detail: errorText(err),
      fix: "the exactly-once profiles need transactions: check transaction.state.log.* settings and ACLs",
    };
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

/** Toxiproxy answers and a client routed through a test proxy per broker reaches the cluster. */
async function proxyCheck(
  url: string,
  cluster: Cluster,
  connection: Connection,
  proxy: { host?: string; portBase?: number },
): Promise<Check> {
  const name = "Toxiproxy";
  let proxies: ProxySet | undefined;
  try {
    proxies = await ProxySet.create({
      toxiproxyUrl: url,
      name: `kc-doctor-${process.pid}`,
      brokers: cluster.brokers,
      listenHost: proxy.host,
      portBase: proxy.portBase,
    });
    const version = await proxies.toxiproxy.getVersion();
    const routed = kafkaClient({
      clientId: "kafka-chaos-doctor",
      brokers: cluster.brokers.map((b) => `${b.host}:${b.port}`),
      route: proxies.route(),
      retries: 1,
      connection,
    });
    const admin = routed.admin();
    await admin.connect();
    await admin.describeCluster();
    await admin.disconnect();
    return {
      name,
      ok: true,
      detail: `${url} (version ${versionText(version)}), every broker reachable through a proxy`,
    };
  } catch (err) {
    return {
      name,
      ok: false,
      detail: `${url}: ${errorText(err)}`,
      fix: "start Toxiproxy (npm run stack:up) or pass --toxiproxy URL of one that can reach the brokers",
    };
  } finally {
    await proxies?.remove();
  }
}

/** The reader of record (librdkafka) reads back every run: it must reach the cluster too. */
async function readerCheck(bootstrap: string, connection: Connection): Promise<Check> {
  const problem = await readerProblem(bootstrap, connection);
  return problem === undefined
    ? { name: "reader of record", ok: true, detail: `${LIBRDKAFKA} reaches the cluster` }
    : {
        name: "reader of record",
        ok: false,
        detail: `${LIBRDKAFKA}: ${problem}`,
        fix: "check --bootstrap and the TLS/SASL flags: librdkafka reads every run back",
      };
}

function runDirCheck(): Check {
  const dir = path.resolve("kafka-chaos-runs");
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return { name: "run directory", ok: true, detail: `${dir} is writable` };
  } catch (err) {
    return {
      name: "run directory",
      ok: false,
      detail: String(err),
      fix: "pass --out DIR to a writable place",
    };
  }
}

const controllerOf = (c: Cluster): string =>
  c.controller === null ? "unknown" : `broker-${c.controller}`;

/** Toxiproxy answers its version as plain text or as JSON, depending on the release. */
function versionText(raw: string): string {
  try {
    const parsed = JSON.parse(raw) as { version?: string };
    return parsed.version ?? raw.trim();
  } catch {
    return raw.trim();
  }
}
