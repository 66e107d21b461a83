import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import type { Report } from "../src/report/report.js";
import { bootstrap, proxyNames, runCli, spawnCli, toxiproxyUrl } from "./helpers.js";

it("Ctrl-C mid-run removes every proxy and leaves a history that reconcile can judge", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-interrupt-"));
  const live = spawnCli([
    "run",
    "--profile",
    "at-least-once",
    "--messages",
    "400000",
    "--fault",
    "latency:at=2s,for=30s",
    "--proxy-ports",
    "26500",
    "--bootstrap",
    bootstrap(),
    "--toxiproxy",
    toxiproxyUrl(),
    "--out",
    out,
  ]);

  const runId = await waitFor(() => readRunId(out), 20_000);
  await waitFor(
    async () => ((await proxyNames()).some((n) => n.includes(runId)) ? true : undefined),
    10_000,
  );
  const listening = (await (await fetch(`${toxiproxyUrl()}/proxies`)).json()) as Record<
    string,
    { listen: string }
  >;
  // the run's proxies, not its lease (a disabled proxy that binds nothing)
  const ports = Object.entries(listening)
    .filter(([name]) => name.includes(runId) && !name.endsWith("-lease"))
    .map(([, p]) => Number(p.listen.split(":").at(-1)));
  expect(ports.length).toBeGreaterThan(0);
  for (const port of ports) expect(port).toBeGreaterThanOrEqual(26500); // --proxy-ports
  await waitFor(() => (historyLines(out) > 20 ? true : undefined), 20_000);
  await sleep(2500); // the latency fault is active now
  live.child.kill("SIGINT");

  expect(await live.exitWithin(60_000)).toBe(130);
  expect(live.stderr()).toContain(`kafka-chaos reconcile ${out}`);
  expect((await proxyNames()).filter((n) => n.includes(runId))).toEqual([]);

  const history = fs.readFileSync(path.join(out, "history.jsonl"), "utf8").trim().split("\n");
  expect(JSON.parse(history.at(-1) ?? "{}")).toMatchObject({ type: "end", reason: "interrupted" });
  expect(history.some((l) => l.includes('"phase":"stop"'))).toBe(true);

  const r = await runCli(["reconcile", out, "--json", "-"]);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout) as Report;
  expect(report.messages.attempted).toBeGreaterThan(0);
  expect(report.messages.attempted).toBeLessThan(400_000);
  expect(report.hops[0]?.lostAcked).toBe(0);
  expect(report.hops[0]?.unexpected).toBe(0);

  const cleanup = await runCli([
    "cleanup",
    "--older-than",
    "0",
    "--bootstrap",
    bootstrap(),
    "--toxiproxy",
    toxiproxyUrl(),
  ]);
  expect(cleanup.code).toBe(0);
  expect(cleanup.stdout).toContain(`topic kc-${runId}-input`);
}, 120_000);

function readRunId(dir: string): string | undefined {
  const file = path.join(dir, "run.json");
  if (!fs.existsSync(file)) return undefined;
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { runId: string }).runId;
}

function historyLines(dir: string): number {
  const file = path.join(dir, "history.jsonl");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").length : 0;
}

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(100);
  }
}
