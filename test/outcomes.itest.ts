/**
 * Message sizes and refusals on the real stack: large messages just work (batches by bytes,
 * topics sized for them), a size the cluster cannot take is refused before anything exists, and
 * a cluster that refuses every batch stops the run early with one line naming the fix.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../src/history/events.js";
import {
  bootstrap,
  directClient,
  listTopics,
  runCli,
  runProfile,
  spawnCli,
  toxiproxyUrl,
  uniqueName,
  writeProfile,
} from "./helpers.js";

function history(dir: string): HistoryEvent[] {
  return fs
    .readFileSync(path.join(dir, "history.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as HistoryEvent);
}

describe("message sizes and refusals", () => {
  it("100 KB messages: batches cut by bytes, topics sized for them, the run passes", async () => {
    const profile = writeProfile(`
name: large-messages
claims: at-least-once
producer: { acks: all, retries: 10 }
workload: { messages: 1500, rate: 0, messageSize: 100000, keys: 16, partitions: 3 }
processor: { enabled: true, commit: after }
`);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-large-"));
    const { code, report, stderr } = await runProfile(profile, ["--fault", "none", "--out", out]);
    expect(code, stderr).toBe(0);
    expect(report.verdict).toBe("pass");
    expect(report.messages).toMatchObject({ attempted: 1500, acked: 1500, failed: 0, unknown: 0 });
    for (const h of report.hops) expect([h.name, h.out, h.lost]).toEqual([h.name, 1500, 0]);
    // Ten 100 KB messages fill the default producer.batchBytes (1 MiB), not a hundred.
    const sizes = history(out)
      .filter((e) => e.type === "invoke")
      .map((e) => (e.type === "invoke" ? e.to - e.from + 1 : 0));
    expect(Math.max(...sizes)).toBe(10);
    expect(sizes).toHaveLength(150);
  });

  it("a messageSize beyond what the cluster takes in one request is refused before anything is created (exit 2)", async () => {
    const prefix = uniqueName("kc-too-large");
    const profile = writeProfile(`
name: too-large
workload: { messages: 10, messageSize: 200000000 }
processor: { enabled: false }
`);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-refused-")), "run");
    const common = [
      "--profile",
      profile,
      "--bootstrap",
      bootstrap(),
      "--toxiproxy",
      toxiproxyUrl(),
    ];
    const run = await runCli(["run", ...common, "--topic-prefix", prefix, "--out", out]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^kafka-chaos: workload\.messageSize: 200000000 bytes is more than the cluster accepts in one request, socket\.request\.max\.bytes = 104857600 \(broker \d+\); the largest messageSize it takes is \d+$/,
    );
    expect((await listTopics()).filter((t) => t.startsWith(prefix))).toEqual([]);
    expect(fs.existsSync(out)).toBe(false);
    const res = await fetch(`${toxiproxyUrl()}/proxies`);
    expect(Object.keys((await res.json()) as object).filter((p) => p.startsWith(prefix))).toEqual(
      [],
    );
    // The plan makes the same refusal.
    const plan = await runCli(["run", ...common, "--topic-prefix", prefix, "--dry-run"]);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toContain("workload.messageSize: 200000000 bytes");
  });

  it("a topic that refuses every batch (MESSAGE_TOO_LARGE) stops the run within seconds: exit 2, one line with the fix", async () => {
    const prefix = uniqueName("kc-refusing");
    const input = `${prefix}-input`;
    const profile = writeProfile(`
name: refused-batches
claims: at-least-once
producer: { acks: all, retries: 3 }
workload: { messages: 20000, rate: 500, messageSize: 2000, partitions: 1 }
processor: { enabled: false }
`);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-refusing-")), "run");
    const t0 = Date.now();
    const live = spawnCli([
      "run",
      "--profile",
      profile,
      "--fault",
      "none",
      "--bootstrap",
      bootstrap(),
      "--toxiproxy",
      toxiproxyUrl(),
      "--topic-prefix",
      prefix,
      "--out",
      out,
      "--quiet",
    ]);
    const admin = directClient().admin();
    await admin.connect();
    try {
      // As a cluster whose topics take less than the run's batches: lower the run's topic limit.
      while (!(await admin.listTopics()).includes(input)) await sleep(50);
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: kafkajs.ConfigResourceTypes.TOPIC,
            name: input,
            configEntries: [{ name: "max.message.bytes", value: "1000" }],
          },
        ],
      });
      const code = await live.exitWithin(60_000);
      const stderr = live.stderr();
      expect(code, stderr).toBe(2);
      expect(Date.now() - t0).toBeLessThan(30_000);
      const lines = stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^kafka-chaos: MESSAGE_TOO_LARGE: (the first \d+|\d+ of \d+) sends were refused \(a record batch is larger than the topic's max\.message\.bytes\); fix: lower workload\.messageSize or producer\.batchBytes$/,
      );
      // The history is complete: the refusals recorded as fail (one partition: nothing stored),
      // closed with an end event naming the error.
      const events = history(out);
      const refused = events.filter((e) => e.type === "fail");
      expect(refused.length).toBeGreaterThanOrEqual(3);
      for (const e of refused) {
        expect(e.type === "fail" && e.error).toMatch(/\[MESSAGE_TOO_LARGE\]/);
      }
      const end = events.at(-1);
      expect(end).toMatchObject({ type: "end", reason: "error" });
      expect(end?.type === "end" && end.error).toMatch(/MESSAGE_TOO_LARGE/);
    } finally {
      live.child.kill("SIGKILL");
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
      await admin.disconnect();
    }
  });
});
