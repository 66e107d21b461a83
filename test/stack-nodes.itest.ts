/**
 * Broker faults on the local three-node stack, driven through the `stack` CLI as a user would:
 * SIGKILL of a node and its restart on its data by `stack up`, SIGSTOP/SIGCONT, and cutting the
 * replication from a leader at its Toxiproxy replication proxy. A topic with RF 3,
 * min.insync.replicas=2, written with acks=all, keeps every message through all of it.
 *
 * Its stack runs beside the 1-node test stack and beside test/broker-kill.itest.ts's stack: its
 * own state directory and ports shifted by 2000.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const STACK = fileURLToPath(new URL("../bin/stack.js", import.meta.url));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "kc-stack-nodes-"));
const stackDir = path.join(work, "stack");
const env = {
  ...process.env,
  KAFKA_CHAOS_STACK_DIR: stackDir,
  KAFKA_CHAOS_PORT_OFFSET: "2000",
};
const BROKERS = ["127.0.0.1:11092", "127.0.0.1:11093", "127.0.0.1:11094"];
const TOPIC = "stack-nodes";
/** written with acks=1 while a leader is isolated: a leader's ISR shrinks only while it gets writes */
const TRAFFIC = "stack-nodes-traffic";
const PARTITIONS = 6;
const VICTIM = 2;
const BATCH = 300;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function stack(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [STACK, ...args],
      { env, timeout: 150_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(...args: string[]): Promise<Run> {
  const r = await stack(...args);
  if (r.code !== 0) throw new Error(`stack ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

function client(brokers = BROKERS): kafkajs.Kafka {
  return new kafkajs.Kafka({
    clientId: "stack-nodes-test",
    brokers,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: kafkajs.logLevel.NOTHING,
  });
}

interface PartitionState {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Fresh metadata from the given brokers (a fresh client: no connection to a paused node). */
async function partitions(topic: string, brokers = BROKERS): Promise<PartitionState[]> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const m = await admin.fetchTopicMetadata({ topics: [topic] });
    return (m.topics[0]?.partitions ?? [])
      .map((p) => ({
        partition: p.partitionId,
        leader: p.leader,
        replicas: [...p.replicas].sort(),
        isr: [...p.isr].sort(),
      }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/** Polls until `check` holds for the topic's partitions; returns the seconds it took. */
async function waitFor(
  what: string,
  topic: string,
  check: (ps: PartitionState[]) => boolean,
  timeoutMs: number,
  brokers = BROKERS,
): Promise<number> {
  const t0 = Date.now();
  let last: PartitionState[] | string = [];
  while (Date.now() - t0 < timeoutMs) {
    try {
      last = await partitions(topic, brokers);
      if (last.length === PARTITIONS && check(last)) return (Date.now() - t0) / 1000;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000}s; last seen ${JSON.stringify(last)}`);
}

const fullIsr = (ps: PartitionState[]): boolean => ps.every((p) => p.isr.length === 3);

let sent = 0;
async function produce(count: number, brokers = BROKERS): Promise<void> {
  const producer = client(brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < count; i += 50) {
      const messages = Array.from({ length: Math.min(50, count - i) }, (_, j) => ({
        partition: (sent + i + j) % PARTITIONS,
        value: `m-${sent + i + j}`,
      }));
      await producer.send({ topic: TOPIC, acks: -1, timeout: 10_000, messages });
    }
    sent += count;
  } finally {
    await producer.disconnect();
  }
}

function pidOf(nodeId: number): number {
  return Number(fs.readFileSync(path.join(stackDir, `kafka-${nodeId}`, "kafka.pid"), "utf8"));
}

/** Running: not gone and not a zombie (a killed node may wait as Z for its parent to reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false; // gone meanwhile
  }
}

function clusterIdOf(nodeId: number): string {
  const meta = fs.readFileSync(
    path.join(stackDir, `kafka-${nodeId}`, "data", "meta.properties"),
    "utf8",
  );
  return /cluster\.id=(.*)/.exec(meta)?.[1] ?? "";
}

const timings: string[] = [];

describe("node faults on the local 3-node stack (RF 3, min ISR 2, acks=all)", () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const r = await ok("up", "--brokers", "3");
    timings.push(`3-node up ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(r.stdout).toContain(`KAFKA_CHAOS_BOOTSTRAP=${BROKERS.join(",")}`);
    const admin = client().admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [TOPIC, TRAFFIC].map((topic) => ({
          topic,
          numPartitions: PARTITIONS,
          replicationFactor: 3,
          configEntries: [{ name: "min.insync.replicas", value: "2" }],
        })),
      });
    } finally {
      await admin.disconnect();
    }
    await waitFor("topics fully replicated", TOPIC, fullIsr, 30_000);
    await produce(BATCH);
  }, 180_000);

  afterAll(async () => {
    console.log(`stack-nodes timings: ${timings.join("; ")}`);
    await stack("down");
    fs.rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it("a node id the stack does not have is a usage error (exit 2)", async () => {
    for (const bad of ["7", "0", "two"]) {
      const r = await stack("kill", bad);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`no Kafka node "${bad}"`);
    }
  });

  it("every node replicates through its own Toxiproxy proxy", async () => {
    const r = await stack("status");
    expect(r.code, r.stdout).toBe(0);
    for (const n of [1, 2, 3]) {
      expect(r.stdout).toMatch(
        new RegExp(
          `kafka-${n} .* ready  replication via 127\\.0\\.0\\.1:${11491 + n} \\(enabled\\)`,
        ),
      );
    }
  });

  it("stack kill: SIGKILL, and the survivors lead and take acks=all writes", async () => {
    const pid = pidOf(VICTIM);
    const t0 = Date.now();
    await ok("kill", String(VICTIM));
    expect(alive(pid)).toBe(false);
    const survivors = BROKERS.filter((_, i) => i + 1 !== VICTIM);
    await waitFor(
      `no partition led by or in sync on node ${VICTIM}`,
      TOPIC,
      (ps) => ps.every((p) => p.leader !== VICTIM && p.leader >= 0 && !p.isr.includes(VICTIM)),
      30_000,
      survivors,
    );
    timings.push(`kill -> leaders moved ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    const status = await stack("status");
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(new RegExp(`kafka-${VICTIM} .* pid -  down`));
    await produce(BATCH, survivors);
  }, 90_000);

  it("stack up restarts the killed node on its data; its replicas rejoin the ISR", async () => {
    const clusterId = clusterIdOf(1);
    const t0 = Date.now();
    const r = await ok("up", "--brokers", "3");
    expect(r.stderr).toContain(`starting Kafka node ${VICTIM} on its data`);
    const upSecs = (Date.now() - t0) / 1000;
    expect(clusterIdOf(VICTIM)).toBe(clusterId);
    expect(alive(pidOf(1)) && alive(pidOf(3))).toBe(true);
    const rejoin = await waitFor(`node ${VICTIM} back in every ISR`, TOPIC, fullIsr, 60_000);
    timings.push(`restart: up ${upSecs.toFixed(1)}s, then ISR rejoined in ${rejoin.toFixed(1)}s`);
    const admin = client().admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).toContain(TOPIC);
    } finally {
      await admin.disconnect();
    }
  }, 150_000);

  it("stack pause / resume: a paused node shows as paused and loses its leadership", async () => {
    const t0 = Date.now();
    await ok("pause", String(VICTIM));
    try {
      const status = await stack("status");
      expect(status.code).toBe(3);
      expect(status.stdout).toMatch(new RegExp(`kafka-${VICTIM} .* paused`));
      const survivors = BROKERS.filter((_, i) => i + 1 !== VICTIM);
      await waitFor(
        `paused node ${VICTIM} out of leadership and ISR`,
        TOPIC,
        (ps) => ps.every((p) => p.leader !== VICTIM && !p.isr.includes(VICTIM)),
        30_000,
        survivors,
      );
      timings.push(`pause -> leaders moved ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      await produce(BATCH, survivors);
    } finally {
      await ok("resume", String(VICTIM));
    }
    const secs = await waitFor(`resumed node ${VICTIM} back in every ISR`, TOPIC, fullIsr, 60_000);
    timings.push(`resume -> ISR rejoined ${secs.toFixed(1)}s`);
    const status = await stack("status");
    expect(status.stdout).not.toContain("paused");
  }, 150_000);

  it("stack isolate: a leader's ISR shrinks to itself while it takes writes; heal restores it", async () => {
    await waitFor("traffic topic fully replicated", TRAFFIC, fullIsr, 60_000);
    const leader = (await partitions(TRAFFIC))[0]?.leader ?? 1;
    const producer = client().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    let writing = true;
    const traffic = (async () => {
      while (writing) {
        const messages = Array.from({ length: PARTITIONS }, (_, partition) => ({
          partition,
          value: "t",
        }));
        await producer.send({ topic: TRAFFIC, acks: 1, timeout: 5000, messages }).catch(() => {});
        await sleep(100);
      }
    })();
    try {
      const t0 = Date.now();
      await ok("isolate", String(leader));
      const status = await stack("status");
      expect(status.stdout).toMatch(new RegExp(`kafka-${leader} .*\\(ISOLATED\\)`));
      await waitFor(
        `partitions led by node ${leader} down to ISR [${leader}]`,
        TRAFFIC,
        (ps) => {
          const led = ps.filter((p) => p.leader === leader);
          return led.length > 0 && led.every((p) => p.isr.length === 1 && p.isr[0] === leader);
        },
        30_000,
      );
      // the other nodes' partitions are untouched: their followers still fetch
      const others = (await partitions(TRAFFIC)).filter((p) => p.leader !== leader);
      for (const p of others) expect(p.isr, `partition ${p.partition}`).toContain(p.leader);
      timings.push(`isolate -> ISR shrank ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      const t1 = Date.now();
      await ok("heal", String(leader));
      await waitFor(`node ${leader}'s followers back in sync`, TRAFFIC, fullIsr, 30_000);
      timings.push(`heal -> ISR grew back ${((Date.now() - t1) / 1000).toFixed(1)}s`);
    } finally {
      writing = false;
      await traffic;
      await producer.disconnect();
      await stack("heal", String(leader));
    }
  }, 120_000);

  it("every acks=all message is still there", async () => {
    const consumer = client().consumer({ groupId: `stack-nodes-${Date.now()}` });
    const seen = new Set<string>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.add(message.value?.toString() ?? "");
        },
      });
      const deadline = Date.now() + 60_000;
      while (seen.size < sent && Date.now() < deadline) await sleep(200);
    } finally {
      await consumer.disconnect();
    }
    expect(sent).toBe(3 * BATCH);
    expect(seen.size).toBe(sent);
    for (let i = 0; i < sent; i += 1) expect(seen.has(`m-${i}`), `m-${i}`).toBe(true);
  }, 90_000);
});
