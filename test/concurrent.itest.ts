/**
 * Several runs at once on one cluster and one Toxiproxy, as CI jobs side by side: four runs of
 * different claims, each under a network fault (three cut-connections among them, and two on a
 * user's app, each routed through its own slot of the brokers' APP listeners), all proxies from
 * the same first port. Each must be judged as it would be alone, and nothing of any of them may
 * be left behind.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hop, proxyNames, runProfile, writeProfile } from "./helpers.js";

const APP = path.resolve(import.meta.dirname, "apps", "copy-app.mjs");

const appProfile = (fault: string) =>
  writeProfile(`
name: copy-app-concurrent
claims: at-least-once
app:
  command: ${JSON.stringify(["node", APP])}
  ready: { log: "copy-app: ready" }
  readyTimeout: 30s
  catchUpTimeout: 90s
workload: { messages: 3000, rate: 1000 }
faults: ["${fault}"]
`);

describe("four runs at once on one stack", () => {
  it("each is judged right, and none leaves a proxy", async () => {
    const runs = [
      runProfile(
        "at-least-once",
        ["--fault", "cut-connection:at=1500msg,for=2s", "--messages", "6000"],
        { timeoutMs: 300_000 },
      ),
      runProfile(appProfile("latency:role=app,latency=200ms,at=500msg,for=3s"), [], {
        timeoutMs: 300_000,
      }),
      runProfile("exactly-once", ["--fault", "drop-acks:at=1500msg,for=2s", "--messages", "6000"], {
        timeoutMs: 300_000,
      }),
      runProfile(appProfile("cut-connection:role=app,at=1000msg,for=2s"), [], {
        timeoutMs: 300_000,
      }),
    ];
    const [alo, slow, eos, app] = await Promise.all(runs);

    // at-least-once: nothing acked is lost anywhere; the cut happened.
    expect(alo!.code, alo!.stderr).toBe(0);
    expect(alo!.report.faults.map((f) => f.type)).toEqual(["cut-connection#1"]);
    for (const h of alo!.report.hops) expect(h.lostAcked, h.name).toBe(0);
    // an app whose connections are slowed, beside another app's cut: no acked loss.
    expect(slow!.code, slow!.stderr).toBe(0);
    expect(hop(slow!.report, "end-to-end").lostAcked).toBe(0);
    expect(slow!.report.faults.map((f) => f.type)).toEqual(["latency#1"]);
    // exactly-once: 0 lost, 0 duplicated end to end.
    expect(eos!.code, eos!.stderr).toBe(0);
    const e2e = hop(eos!.report, "end-to-end");
    expect([e2e.lost, e2e.duplicated]).toEqual([0, 0]);
    // the app under a cut of its own connections: no acked loss.
    expect(app!.code, app!.stderr).toBe(0);
    expect(hop(app!.report, "end-to-end").lostAcked).toBe(0);
    expect(app!.report.faults.map((f) => f.type)).toEqual(["cut-connection#1"]);

    const ids = [alo, slow, eos, app].map((r) => r!.report.runId);
    expect(new Set(ids).size).toBe(4);
    const left = (await proxyNames()).filter((p) => ids.some((id) => p.includes(id)));
    expect(left).toEqual([]);
  }, 360_000);
});
