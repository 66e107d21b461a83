/**
 * The broker-storage hop's known answers, on a real 3-node stack whose replication goes through
 * Toxiproxy (its own state directory and ports, beside the 1-node test stack):
 *  - acks=1 loses acknowledged writes when the leader dies while its followers lag;
 *  - acks=all with min.insync.replicas=2 loses none under the same schedule;
 *  - a killed leader costs no acked write (duplicates allowed), and none and no duplicate with
 *    an idempotent producer;
 *  - an exactly-once pipeline survives a paused transaction coordinator and a killed leader;
 *  - a run killed mid-fault leaves nothing in Toxiproxy once `cleanup` ran.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Report } from "../src/report/report.js";
import { setTimeout as sleep } from "node:timers/promises";
import { hop, runCli, spawnCli, writeProfile } from "./helpers.js";
import { sideStack, upAroundTests } from "./side-stack.js";

const side = sideStack(1000, "broker-faults");
const { work } = side;
const env = {
  KAFKA_CHAOS_STACK_DIR: side.env.KAFKA_CHAOS_STACK_DIR,
  KAFKA_CHAOS_PORT_OFFSET: "1000",
};
const BOOTSTRAP = side.bootstrap;
const TOXIPROXY = side.toxiproxy;

let runs = 0;

/** `run` against the 3-node stack; the report, the exit code and stderr. */
async function run3(profile: string, ...extra: string[]) {
  runs += 1;
  const json = path.join(work, `report-${runs}.json`);
  const result = await runCli(
    [
      "run",
      "--profile",
      profile,
      "--bootstrap",
      BOOTSTRAP,
      "--toxiproxy",
      TOXIPROXY,
      "--proxy-ports",
      "23000",
      "--out",
      path.join(work, `run-${runs}`),
      "--json",
      json,
      "--quiet",
      ...extra,
    ],
    240_000,
    env,
  );
  if (result.code !== 0 && result.code !== 1) {
    throw new Error(`run exited ${result.code}: ${result.stderr}`);
  }
  const report = JSON.parse(fs.readFileSync(json, "utf8")) as Report;
  console.log(
    `${profile.split("/").at(-1)}: exit ${result.code} in ${(result.ms / 1000).toFixed(0)}s; ` +
      `messages ${JSON.stringify(report.messages)}; ` +
      report.hops
        .map(
          (h) =>
            `${h.name}: lost ${h.lost} (acked ${h.lostAcked}), dup ${h.duplicated}, aborted ${h.abortedReads}`,
        )
        .join("; "),
  );
  return { ...result, report };
}

const lostAcked = (report: Report) => report.hops.reduce((sum, h) => sum + h.lostAcked, 0);

/** The acks1-leader-failover schedule, with other producer settings. */
function failoverProfile(name: string, producer: string, topicConfig: string): string {
  return writeProfile(`
name: ${name}
claims: at-least-once
producer: { ${producer}, retries: 30, requestTimeoutMs: 5000, retryBackoffMs: 200 }
workload:
  messages: 30000
  rate: 2000
  partitions: 3
  replicationFactor: 3
  topicConfig: { ${topicConfig} }
processor: { enabled: false }
faults:
  - slow-replication:target=leader,at=2s,for=20s,latency=1s
  - kill-broker:target=leader,at=6s,for=10s
`);
}

describe("broker faults on a 3-node cluster (replication through Toxiproxy)", () => {
  upAroundTests(side);

  it("acks=1: the leader killed while its followers lag loses acked writes at broker storage, exit 1", async () => {
    const { code, report } = await run3("acks1-leader-failover");
    expect(code).toBe(1);
    expect(report.verdict).toBe("violation");
    const storage = hop(report, "broker-storage");
    expect(storage.lostAcked).toBeGreaterThan(0);
    // What got lost was stored and acknowledged: none of it is blamed on the producer's send.
    expect(hop(report, "producer-broker").lostAcked).toBe(0);
    expect(report.faults.map((f) => f.type)).toEqual(["slow-replication#1", "kill-broker#2"]);
  }, 300_000);

  it("acks=all + min.insync.replicas=2: the same schedule loses no acked write, exit 0", async () => {
    const profile = failoverProfile("acks-all-failover", "acks: all", "min.insync.replicas: 2");
    const { code, report, stderr } = await run3(profile);
    expect(lostAcked(report), stderr).toBe(0);
    expect(code, stderr).toBe(0);
    expect(report.messages.acked).toBeGreaterThan(20_000);
  }, 300_000);

  it("replicated-at-least-once: the leader killed mid-run, no acked write lost, exit 0", async () => {
    const { code, report, stderr } = await run3("replicated-at-least-once");
    expect(lostAcked(report), stderr).toBe(0);
    expect(code, stderr).toBe(0);
    expect(report.faults[0]).toMatchObject({ type: "kill-broker#1" });
  }, 300_000);

  it("idempotent producer: the leader killed, nothing lost and nothing duplicated, exit 0", async () => {
    const profile = writeProfile(`
name: idempotent-failover
claims: at-least-once
producer: { acks: all, idempotent: true, retries: 30, requestTimeoutMs: 5000, retryBackoffMs: 200 }
workload:
  messages: 20000
  rate: 2000
  partitions: 3
  replicationFactor: 3
  topicConfig: { min.insync.replicas: 2 }
processor: { enabled: false }
faults: [ "kill-broker:target=leader,at=4s,for=10s" ]
expect: { end-to-end: [duplicated] }
`);
    const { code, report, stderr } = await run3(profile);
    expect(lostAcked(report), stderr).toBe(0);
    expect(hop(report, "end-to-end").duplicated, stderr).toBe(0);
    expect(code, stderr).toBe(0);
  }, 300_000);

  it("exactly-once pipeline: transaction coordinator paused, a leader killed: 0 / 0 / 0, exit 0", async () => {
    const profile = writeProfile(`
name: exactly-once-replicated
claims: exactly-once
producer: { acks: all, retries: 30, idempotent: true, transactional: true, maxInFlight: 1, requestTimeoutMs: 5000, retryBackoffMs: 200 }
workload:
  messages: 10000
  rate: 1000
  partitions: 3
  replicationFactor: 3
  topicConfig: { min.insync.replicas: 2 }
processor: { enabled: true, commit: transaction, isolation: read_committed }
faults:
  - pause-broker:target=coordinator,at=3s,for=8s
  - kill-broker:target=leader,at=15s,for=10s
`);
    const { code, report, stderr } = await run3(profile);
    const e2e = hop(report, "end-to-end");
    expect([e2e.lost, e2e.duplicated, e2e.abortedReads], stderr).toEqual([0, 0, 0]);
    expect(code, stderr).toBe(0);
  }, 300_000);

  it("a run SIGKILLed mid slow-replication, cut-connection and isolate-broker: cleanup leaves Toxiproxy as before", async () => {
    const before = await toxiproxyState();
    const profile = writeProfile(`
name: killed-mid-faults
claims: at-least-once
workload: { messages: 400000, rate: 2000, partitions: 3, replicationFactor: 3 }
processor: { enabled: false }
faults:
  - slow-replication:target=leader,at=1s,for=2m,latency=200ms
  - cut-connection:at=1s,for=2m
  - isolate-broker:target=follower,at=1s,for=2m
`);
    const out = path.join(work, "killed");
    const live = spawnCli(
      [
        "run",
        "--profile",
        profile,
        "--bootstrap",
        BOOTSTRAP,
        "--toxiproxy",
        TOXIPROXY,
        "--proxy-ports",
        "23000",
        "--out",
        out,
        "--quiet",
      ],
      { ...process.env, ...env },
    );
    const history = path.join(out, "history.jsonl");
    const started = () =>
      fs.existsSync(history)
        ? fs.readFileSync(history, "utf8").split('"phase":"start"').length - 1
        : 0;
    const deadline = Date.now() + 90_000;
    while (started() < 3 && Date.now() < deadline) await sleep(200);
    expect(started(), live.stderr()).toBe(3);
    live.child.kill("SIGKILL");
    await live.exited;
    expect(await toxiproxyState()).not.toEqual(before);

    const cleanup = await runCli(
      ["cleanup", "--older-than", "0", "--bootstrap", BOOTSTRAP, "--toxiproxy", TOXIPROXY],
      120_000,
      env,
    );
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(
      /removed toxic kc-\d{8}-\d{6}-[a-z0-9]{4}-slow-replication-1 from proxy kafka-chaos-stack-replication-\d/,
    );
    expect(cleanup.stdout).toMatch(
      /enabled stack proxy kafka-chaos-stack-replication-\d \(left disabled by a run that ended\)/,
    );
    expect(cleanup.stdout).toMatch(/removed proxy kc-\d{8}-\d{6}-[a-z0-9]{4}-producer-b1/);
    // Proxy by proxy, toxic by toxic, as before the run.
    expect(await toxiproxyState()).toEqual(before);
  }, 240_000);
});

/** Every proxy of the side stack's Toxiproxy with its toxics, in a stable order. */
async function toxiproxyState() {
  const proxies = (await (await fetch(`${TOXIPROXY}/proxies`)).json()) as Record<
    string,
    { name: string; listen: string; upstream: string; enabled: boolean; toxics: { name: string }[] }
  >;
  return Object.values(proxies)
    .map((p) => ({ ...p, toxics: [...p.toxics].sort((a, b) => a.name.localeCompare(b.name)) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
