/**
 * A broker killed with SIGKILL mid-run, on a 3-node cluster with replication factor 3,
 * min.insync.replicas=2 and acks=all, and left down: the cluster loses no acknowledged write,
 * so the run must not report one. (kafkajs can resolve a send without a broker response for the
 * partitions the dead broker led, tulios/kafkajs#1303: those records must count as unknown.)
 *
 * The 3-node stack runs beside the 1-node test stack: its own state directory and ports shifted
 * by KAFKA_CHAOS_PORT_OFFSET, so nothing of the other stack is touched.
 */
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Report } from "../src/report/report.js";
import { spawnCli, writeProfile } from "./helpers.js";
import { sideStack, upAroundTests } from "./side-stack.js";

const side = sideStack(1000, "3node");
const { work, env } = side;
const BOOTSTRAP = side.bootstrap;
const TOXIPROXY = side.toxiproxy;
const VICTIM = 2;

/** ok completions in the run's history so far. */
function oks(history: string): number {
  if (!fs.existsSync(history)) return 0;
  return fs.readFileSync(history, "utf8").split('"type":"ok"').length - 1;
}

describe("a broker killed on a 3-node cluster (RF 3, min ISR 2, acks=all)", () => {
  upAroundTests(side);

  it("kill -9 of one broker mid-run and left down: no acked write reported lost, exit 0", async () => {
    const profile = writeProfile(`
name: broker-kill
claims: at-least-once
producer: { acks: all, retries: 30, requestTimeoutMs: 5000, retryBackoffMs: 200 }
workload: { messages: 60000, rate: 0, keys: 16, partitions: 6, replicationFactor: 3 }
processor: { enabled: false }
`);
    const out = path.join(work, "run");
    const json = path.join(work, "report.json");
    const live = spawnCli(
      [
        "run",
        "--profile",
        profile,
        "--fault",
        "none",
        "--bootstrap",
        BOOTSTRAP,
        "--toxiproxy",
        TOXIPROXY,
        "--proxy-ports",
        "23000",
        "--out",
        out,
        "--json",
        json,
        "--quiet",
      ],
      env,
    );
    // Sends back to back (rate 0), so the kill catches one in flight; once 40 batches are
    // acked, so the survivors have most of the run left. Retries outlast the broker's fencing
    // (~9 s): the sends in flight end ok or unknown, not fail.
    const deadline = Date.now() + 60_000;
    while (oks(path.join(out, "history.jsonl")) < 40 && Date.now() < deadline) await sleep(50);
    const pid = Number(
      fs.readFileSync(path.join(work, "stack", `kafka-${VICTIM}`, "kafka.pid"), "utf8"),
    );
    process.kill(pid, "SIGKILL");
    const killedAt = oks(path.join(out, "history.jsonl"));
    const code = await live.exitWithin(120_000);
    const stderr = live.stderr();
    expect(code, stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(json, "utf8")) as Report;
    console.log(
      `broker ${VICTIM} killed after ${killedAt} acked batches; messages ${JSON.stringify(report.messages)}; ` +
        `unconfirmed ${JSON.stringify(report.unconfirmed)}; ` +
        report.hops
          .map((h) => `${h.name}: lost ${h.lost} (acked ${h.lostAcked}), dup ${h.duplicated}`)
          .join("; "),
    );
    expect(killedAt).toBeGreaterThanOrEqual(40);
    expect(killedAt).toBeLessThan(300); // the kill came mid-run, not after it
    expect(report.messages.attempted).toBe(60000);
    for (const h of report.hops) expect(h.lostAcked, h.name).toBe(0);
    expect(report.verdict).toBe("pass");
  }, 180_000);
});
