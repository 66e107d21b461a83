import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Report } from "../src/report/report.js";
import { isAlive, livePid } from "../src/stack/process.js";
import { status, up } from "../src/stack/stack.js";
import { TOXIPROXY_URL, toxiproxyPid } from "../src/stack/toxiproxy.js";
import {
  bootstrap,
  directClient,
  proxyNames,
  runCli,
  spawnCli,
  toxiproxyUrl,
  uniqueName,
  writeProfile,
} from "./helpers.js";

/**
 * The infrastructure watchdog against the real stack: what a run stands on disappears mid-run,
 * and the run must end with exit 3 within seconds, with one line saying what disappeared, no
 * verdict, and its history kept.
 */

/** ~30 s of paced sending: long enough to break things mid-run, never long enough to matter. */
const PROFILE = `
name: watchdog-test
claims: at-least-once
workload:
  messages: 60000
  rate: 2000
processor:
  commit: after
faults: []
`;

interface Live {
  out: string;
  prefix: string;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

function startRun(extra: string[]): Live {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-watchdog-"));
  const prefix = uniqueName("kc-wd");
  const live = spawnCli([
    "run",
    "--profile",
    writeProfile(PROFILE),
    "--bootstrap",
    bootstrap(),
    "--toxiproxy",
    toxiproxyUrl(),
    "--topic-prefix",
    prefix,
    "--out",
    out,
    "--proxy-ports",
    "27500",
    "--max-duration",
    "3m",
    ...extra,
  ]);
  return { out, prefix, stderr: live.stderr, stdout: live.stdout, exited: live.exited };
}

/** Waits until the run has sent for a while (and, unless --quiet, printed a progress line). */
async function midRun(live: Live, progress: boolean): Promise<void> {
  const history = path.join(live.out, "history.jsonl");
  const deadline = Date.now() + 40_000;
  const going = () =>
    fs.existsSync(history) &&
    fs.readFileSync(history, "utf8").split("\n").length > 40 &&
    (!progress || /^progress /m.test(live.stderr()));
  while (!going()) {
    if (Date.now() > deadline) throw new Error(`the run did not get going:\n${live.stderr()}`);
    await sleep(200);
  }
}

function lastEvent(out: string): Record<string, unknown> {
  const lines = fs.readFileSync(path.join(out, "history.jsonl"), "utf8").trim().split("\n");
  return JSON.parse(lines.at(-1) ?? "{}") as Record<string, unknown>;
}

/** The lines of stderr that are messages of the tool (not progress lines). */
function toolLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("kafka-chaos:"));
}

async function deleteRunTopics(prefix: string): Promise<void> {
  const admin = directClient().admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

const localToxiproxy = (): boolean =>
  toxiproxyUrl() === TOXIPROXY_URL && livePid(toxiproxyPid) !== undefined;

describe("watchdog: the run's infrastructure vanishes mid-run", () => {
  it("the run's input topic deleted mid-run: exit 3 within seconds naming the topic, no verdict", async () => {
    const live = startRun([]);
    try {
      await midRun(live, true);
      const admin = directClient().admin();
      await admin.connect();
      const deletedAt = Date.now();
      await admin.deleteTopics({ topics: [`${live.prefix}-input`] });
      await admin.disconnect();
      const { code, at } = await live.exited;
      const lines = toolLines(live.stderr());
      expect(code, live.stderr()).toBe(3);
      console.log(`topic deleted → exit 3 in ${at - deletedAt} ms`);
      expect(at - deletedAt).toBeLessThan(15_000);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`the run's topic ${live.prefix}-input was deleted`);
      expect(lines[0]).toContain(live.out);
      expect(live.stdout()).toBe("");
      expect(fs.existsSync(path.join(live.out, "report.json"))).toBe(false);
      expect(lastEvent(live.out)).toMatchObject({ type: "end", reason: "error" });
      // non-TTY stderr: plain progress lines while it ran
      expect(live.stderr()).toMatch(/^progress \d+s: sent \d+ {2}acked \d+ .* processed \d+/m);
      expect((await proxyNames()).filter((n) => n.startsWith(live.prefix))).toEqual([]);
    } finally {
      await live.exited;
      await deleteRunTopics(live.prefix);
    }
  }, 120_000);

  it("the run's proxy disabled by hand mid-run: exit 3 within seconds naming the proxy", async () => {
    const live = startRun(["--quiet", "--fault", "none"]);
    try {
      await midRun(live, false);
      const proxy = `${live.prefix}-producer-b1`;
      const res = await fetch(`${toxiproxyUrl()}/proxies/${proxy}`, {
        method: "POST",
        body: JSON.stringify({ enabled: false }),
      });
      expect(res.ok).toBe(true);
      const changedAt = Date.now();
      const { code, at } = await live.exited;
      const lines = toolLines(live.stderr());
      expect(code, live.stderr()).toBe(3);
      console.log(`proxy disabled → exit 3 in ${at - changedAt} ms`);
      expect(at - changedAt).toBeLessThan(15_000);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(
        `the run's proxy ${proxy} is disabled, but no fault of the run is active on it`,
      );
      expect(lastEvent(live.out)).toMatchObject({ type: "end", reason: "error" });
      expect((await proxyNames()).filter((n) => n.startsWith(live.prefix))).toEqual([]);
    } finally {
      await live.exited;
      await deleteRunTopics(live.prefix);
    }
  }, 120_000);

  // Kills the shared Toxiproxy: every other run on the stack loses its proxies too. It waits a
  // little for a moment when no other run's proxies exist, and restarts Toxiproxy at once.
  it.skipIf(!localToxiproxy())(
    "Toxiproxy killed with SIGKILL and restarted mid-run: exit 3 within seconds naming the lost proxies; reconcile judges the history",
    async () => {
      const live = startRun(["--quiet", "--fault", "latency:latency=20ms,jitter=0ms,at=1s,for=5m"]);
      try {
        await midRun(live, false);
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          const others = (await proxyNames()).filter((n) => !n.startsWith(live.prefix));
          if (others.length === 0) break;
          await sleep(250);
        }
        const pid = livePid(toxiproxyPid);
        if (pid === undefined) throw new Error("Toxiproxy is not running");
        const killedAt = Date.now();
        process.kill(pid, "SIGKILL");
        // `up` restarts only what is not running: wait until the process is really gone.
        while (isAlive(pid) && Date.now() < killedAt + 5000) await sleep(20);
        const state = (await status()).info;
        await up({ brokers: state?.brokers ?? 1, secure: state?.secure !== undefined });
        const { code, at } = await live.exited;
        const lines = toolLines(live.stderr());
        expect(code, live.stderr()).toBe(3);
        console.log(`Toxiproxy killed → exit 3 in ${at - killedAt} ms`);
        expect(at - killedAt).toBeLessThan(15_000);
        expect(lines, live.stderr()).toHaveLength(1);
        expect(lines[0]).toMatch(/Toxiproxy (lost the run's proxies|stopped answering)/);
        expect(lines[0]).toContain(`${live.prefix}-producer-b`);
        expect(lines[0]).toContain(`kafka-chaos reconcile ${live.out}`);
        expect(live.stderr()).not.toMatch(/^progress /m); // --quiet
        expect(fs.existsSync(path.join(live.out, "report.json"))).toBe(false);
        expect(lastEvent(live.out)).toMatchObject({ type: "end", reason: "error" });

        const r = await runCli(["reconcile", live.out, "--json", "-"]);
        expect([0, 1], r.stderr).toContain(r.code);
        const report = JSON.parse(r.stdout) as Report;
        expect(report.messages.attempted).toBeGreaterThan(0);
        expect(report.messages.attempted).toBeLessThan(60_000);
        expect(report.hops[0]?.lostAcked).toBe(0);
      } finally {
        await live.exited;
        if (livePid(toxiproxyPid) === undefined) await up({ brokers: 1 });
        await deleteRunTopics(live.prefix);
      }
    },
    150_000,
  );
});
