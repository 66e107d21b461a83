import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { exitCodeOf, RunBrokenError } from "../errors.js";
import type { HistoryEvent } from "../history/events.js";
import { HistoryWriter } from "../history/writer.js";
import { startWatchdog, Watchdog, type ActiveFault, type ProxyState } from "./watchdog.js";
import { ProcessedCounter, tapHistory } from "./watch-sources.js";

const PROXIES = ["kc-r-producer-b1", "kc-r-processor-b1"];
const TOPICS = ["kc-r-input", "kc-r-output"];
const LIMIT = 60_000;
const GRACE = 20_000;

/** A run's surroundings, all in memory: tests change them between checks. */
class Fakes {
  time = 0;
  toxiproxyUp = true;
  proxies = new Map<string, ProxyState>(
    PROXIES.map((n) => [n, { enabled: true, toxics: [] as string[] }]),
  );
  topics: string[] | Error = [...TOPICS, "someone-else"];
  partitions = 3;
  active: ActiveFault[] = [];
  processed = 0;
  pending = false;
  workerError: string | undefined;

  watchdog(withProcessor = true): Watchdog {
    return new Watchdog({
      ports: {
        listProxies: () =>
          this.toxiproxyUp
            ? Promise.resolve(new Map(this.proxies))
            : Promise.reject(
                new TypeError("fetch failed", {
                  cause: new Error("connect ECONNREFUSED 127.0.0.1:8474"),
                }),
              ),
        listTopics: () =>
          this.topics instanceof Error
            ? Promise.reject(this.topics)
            : Promise.resolve(new Map(this.topics.map((t) => [t, this.partitions]))),
        activeFaults: () => this.active,
        ...(withProcessor
          ? {
              processor: {
                processed: () => this.processed,
                pending: () => Promise.resolve(this.pending),
                lastError: () => this.workerError,
              },
            }
          : {}),
        now: () => this.time,
      },
      proxies: PROXIES,
      topics: TOPICS,
      toxiproxyUrl: "http://127.0.0.1:8474",
      bootstrap: "127.0.0.1:9092",
      stallLimitMs: LIMIT,
      graceMs: GRACE,
      hint: () => "the run was stopped and not judged",
    });
  }
}

/** Checks once a second for `ms`; the first problem found, if any. */
async function checkFor(w: Watchdog, f: Fakes, ms: number): Promise<RunBrokenError | undefined> {
  for (let t = 0; t <= ms; t += 1000) {
    const problem = await w.check();
    if (problem) return problem;
    f.time += 1000;
  }
  return undefined;
}

const invoke = (time: number): HistoryEvent => ({
  type: "invoke",
  producer: 0,
  from: 0,
  to: 99,
  time,
});
const outcome = (type: "ok" | "fail" | "unknown", time: number, error?: string): HistoryEvent => ({
  type,
  producer: 0,
  from: 0,
  to: 99,
  time,
  ...(error ? { error } : {}),
});
const fault = (phase: "start" | "stop", time: number): HistoryEvent => ({
  type: "fault",
  phase,
  fault: "cut-connection#1",
  target: "leader",
  time,
});

describe("watchdog: the run's proxies", () => {
  it("stays quiet while every proxy and topic is there", async () => {
    const f = new Fakes();
    expect(await checkFor(f.watchdog(), f, 10_000)).toBeUndefined();
  });

  it("vanished proxies stop the run at the first check, naming them, exit 3", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    expect(await w.check()).toBeUndefined();
    f.proxies.delete("kc-r-producer-b1");
    const problem = await w.check();
    expect(problem).toBeInstanceOf(RunBrokenError);
    expect(problem?.brokenBy).toBe("proxies");
    expect(exitCodeOf(problem)).toBe(3);
    expect(problem?.message).toBe(
      "http://127.0.0.1:8474: Toxiproxy lost the run's proxies (kc-r-producer-b1) — was it restarted?; the run was stopped and not judged",
    );
    expect(problem?.message).not.toContain("\n");
  });

  it("a Toxiproxy that does not answer is given 3 s, then the run stops", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    f.toxiproxyUp = false;
    for (let i = 0; i < 3; i += 1) {
      expect(await w.check()).toBeUndefined();
      f.time += 1000;
    }
    const problem = await w.check();
    expect(problem?.brokenBy).toBe("toxiproxy");
    expect(problem?.message).toContain("connect ECONNREFUSED 127.0.0.1:8474");
    expect(problem?.message).toContain("kc-r-producer-b1, kc-r-processor-b1");
  });

  it("a Toxiproxy that answers again in time is fine", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    f.toxiproxyUp = false;
    expect(await checkFor(w, f, 2000)).toBeUndefined();
    f.toxiproxyUp = true;
    expect(await checkFor(w, f, 10_000)).toBeUndefined();
  });

  it("an active fault's proxy may be disabled or carry the fault's toxic", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    f.active = [
      { label: "cut-connection#1", toxic: "kc-cut-connection-1", proxies: [PROXIES[0]!] },
    ];
    f.proxies.set(PROXIES[0]!, { enabled: false, toxics: [] });
    expect(await checkFor(w, f, 5000)).toBeUndefined();
    f.active = [{ label: "drop-acks#1", toxic: "kc-drop-acks-1", proxies: [PROXIES[0]!] }];
    f.proxies.set(PROXIES[0]!, { enabled: true, toxics: ["kc-drop-acks-1"] });
    expect(await checkFor(w, f, 5000)).toBeUndefined();
  });

  it("a fault's toxic gone from its proxy stops the run on the second sighting", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    f.active = [{ label: "drop-acks#1", toxic: "kc-drop-acks-1", proxies: [PROXIES[0]!] }];
    // A fault being applied: the nemesis counts it active a moment before the toxic exists.
    expect(await w.check()).toBeUndefined();
    f.proxies.set(PROXIES[0]!, { enabled: true, toxics: ["kc-drop-acks-1"] });
    expect(await w.check()).toBeUndefined();
    // Then Toxiproxy is reset: the toxic is gone while the fault is active.
    f.proxies.set(PROXIES[0]!, { enabled: true, toxics: [] });
    expect(await w.check()).toBeUndefined();
    const problem = await w.check();
    expect(problem?.brokenBy).toBe("proxy-config");
    expect(problem?.message).toContain(
      "fault drop-acks#1 is no longer in effect on the run's proxy kc-r-producer-b1",
    );
  });

  it("a disabled proxy or a toxic that no active fault explains stops the run", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    f.proxies.set(PROXIES[1]!, { enabled: false, toxics: [] });
    const disabled = await checkFor(w, f, 2000);
    expect(disabled?.message).toContain(
      "the run's proxy kc-r-processor-b1 is disabled, but no fault of the run is active on it",
    );
    const h = new Fakes();
    const u = h.watchdog();
    h.proxies.set(PROXIES[0]!, { enabled: false, toxics: [], listen: "127.0.0.1:21000" });
    h.proxies.set("kc-other-producer-b1", { enabled: true, toxics: [], listen: "127.0.0.1:21000" });
    const taken = await checkFor(u, h, 2000);
    expect(taken?.message).toContain(
      "the run's proxy kc-r-producer-b1 cannot be enabled again: while a fault had it disabled, proxy kc-other-producer-b1 took its address 127.0.0.1:21000",
    );
    const g = new Fakes();
    const v = g.watchdog();
    g.proxies.set(PROXIES[0]!, { enabled: true, toxics: ["kc-latency-1"] });
    const toxic = await checkFor(v, g, 2000);
    expect(toxic?.message).toContain("has a toxic kc-latency-1 that no active fault explains");
  });
});

describe("watchdog: the run's topics", () => {
  it("a deleted topic stops the run on the second sighting, naming it", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    f.topics = ["kc-r-output"];
    expect(await w.check()).toBeUndefined();
    const problem = await w.check();
    expect(problem?.brokenBy).toBe("topic");
    expect(problem?.message).toMatch(/^127\.0\.0\.1:9092: the run's topic kc-r-input was deleted/);
  });

  it("a topic missing once (metadata catching up) is fine", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    f.topics = ["kc-r-output"];
    expect(await w.check()).toBeUndefined();
    f.topics = TOPICS;
    expect(await checkFor(w, f, 5000)).toBeUndefined();
  });

  it("a topic re-created with other partitions (auto-created after a delete) stops the run", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    expect(await checkFor(w, f, 3000)).toBeUndefined();
    f.partitions = 1;
    expect(await w.check()).toBeUndefined();
    const problem = await w.check();
    expect(problem?.brokenBy).toBe("topic");
    expect(problem?.message).toContain(
      "the run's topic kc-r-input changed under the run: it had 3 partitions, now 1",
    );
  });

  it("a cluster that does not answer is not a deleted topic", async () => {
    const f = new Fakes();
    f.topics = new Error("Connection error: connect ECONNREFUSED");
    expect(await checkFor(f.watchdog(false), f, 10_000)).toBeUndefined();
  });
});

describe("watchdog: stalls", () => {
  it("a producer without any ok or fail for the stall limit stops the run, naming its last error", async () => {
    const f = new Fakes();
    const w = f.watchdog(false);
    w.observe(invoke(0));
    w.observe(outcome("unknown", 15_000, "KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED"));
    w.observe(invoke(15_000));
    const problem = await checkFor(w, f, 120_000);
    expect(problem?.brokenBy).toBe("stall");
    expect(f.time).toBe(LIMIT);
    expect(problem?.message).toContain("the producer got no answer");
    expect(problem?.message).toContain("stall limit 1m");
    expect(problem?.message).toContain(
      "last error: KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED",
    );
  });

  it("a producer that keeps getting answers, even refusals, is not stalled", async () => {
    const f = new Fakes();
    const w = f.watchdog(false);
    for (let t = 0; t < 200_000; t += 1000) {
      w.observe(invoke(t));
      w.observe(outcome(t % 2000 === 0 ? "ok" : "fail", t + 500, "MESSAGE_TOO_LARGE"));
      w.observe(invoke(t + 500));
      expect(await w.check()).toBeUndefined();
      f.time += 1000;
    }
  });

  it("a paced producer waiting for its next batch is not stalled", async () => {
    const f = new Fakes();
    const w = f.watchdog(false);
    w.observe(invoke(0));
    w.observe(outcome("ok", 5, undefined));
    expect(await checkFor(w, f, 300_000)).toBeUndefined();
  });

  it("an active fault explains a pause while it lasts plus the grace period", async () => {
    const f = new Fakes();
    const w = f.watchdog(false);
    w.observe(fault("start", 0));
    w.observe(invoke(0));
    expect(await checkFor(w, f, 200_000)).toBeUndefined();
    const stoppedAt = f.time;
    w.observe(fault("stop", stoppedAt));
    const problem = await checkFor(w, f, 200_000);
    expect(problem?.brokenBy).toBe("stall");
    // unexplained from stop + grace on; the limit counts from there
    expect(f.time).toBeGreaterThanOrEqual(stoppedAt + GRACE + LIMIT - 1000);
    expect(f.time).toBeLessThanOrEqual(stoppedAt + GRACE + LIMIT + 1000);
  });

  it("progress resets the stall count", async () => {
    const f = new Fakes();
    const w = f.watchdog(false);
    w.observe(invoke(0));
    expect(await checkFor(w, f, 50_000)).toBeUndefined();
    w.observe(outcome("ok", f.time));
    w.observe(invoke(f.time));
    expect(await checkFor(w, f, 50_000)).toBeUndefined();
  });

  it("a processor that processes nothing while input waits stops the run, naming the worker error", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    f.pending = true;
    f.workerError = "KafkaJSProtocolError: This server does not host this topic-partition";
    const problem = await checkFor(w, f, 120_000);
    expect(problem?.brokenBy).toBe("stall");
    expect(f.time).toBe(LIMIT);
    expect(problem?.message).toContain("the processor processed nothing");
    expect(problem?.message).toContain("This server does not host this topic-partition");
  });

  it("a processor with nothing to do, or one that moves, is not stalled", async () => {
    const f = new Fakes();
    const w = f.watchdog();
    expect(await checkFor(w, f, 100_000)).toBeUndefined();
    f.pending = true;
    for (let i = 0; i < 100; i += 1) {
      f.processed += 100;
      expect(await w.check()).toBeUndefined();
      f.time += 1000;
    }
  });

  it("a stall limit of Infinity turns stall detection off", async () => {
    const f = new Fakes();
    const w = new Watchdog({
      ports: {
        listProxies: () => Promise.resolve(new Map(f.proxies)),
        listTopics: () => Promise.resolve(new Map(TOPICS.map((t) => [t, 3]))),
        activeFaults: () => [],
        now: () => f.time,
      },
      proxies: PROXIES,
      topics: TOPICS,
      toxiproxyUrl: "http://t",
      bootstrap: "b",
      stallLimitMs: Number.POSITIVE_INFINITY,
      graceMs: 0,
    });
    w.observe(invoke(0));
    expect(await checkFor(w, f, 300_000)).toBeUndefined();
  });
});

describe("watchdog: diagnose and run", () => {
  it("diagnose finds vanished proxies, a silent Toxiproxy or a deleted topic at once", async () => {
    const f = new Fakes();
    expect(await f.watchdog().diagnose()).toBeUndefined();
    f.toxiproxyUp = false;
    expect((await f.watchdog().diagnose())?.brokenBy).toBe("toxiproxy");
    const g = new Fakes();
    g.topics = ["kc-r-output"];
    expect((await g.watchdog().diagnose())?.brokenBy).toBe("topic");
  });

  it("a port that never answers is bounded by the call timeout", async () => {
    const w = new Watchdog({
      ports: {
        listProxies: () => new Promise(() => {}),
        listTopics: () => new Promise(() => {}),
        activeFaults: () => [],
        now: () => 0,
      },
      proxies: PROXIES,
      topics: TOPICS,
      toxiproxyUrl: "http://t",
      bootstrap: "b",
      stallLimitMs: LIMIT,
      graceMs: 0,
      callTimeoutMs: 20,
    });
    expect((await w.diagnose())?.message).toContain("no answer within 20 ms");
  });

  it("startWatchdog reports the first problem once and stops checking", async () => {
    const f = new Fakes();
    f.proxies.clear();
    const w = f.watchdog();
    const seen: RunBrokenError[] = [];
    startWatchdog(w, (err) => seen.push(err), 5);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.brokenBy).toBe("proxies");
  });

  it("a stopped watchdog reports nothing", async () => {
    const f = new Fakes();
    f.proxies.clear();
    const seen: RunBrokenError[] = [];
    startWatchdog(f.watchdog(), (err) => seen.push(err), 20).stop();
    await new Promise((r) => setTimeout(r, 80));
    expect(seen).toEqual([]);
  });

  it("stop() settles only once the check in progress is done (its admin calls included)", async () => {
    let done = false;
    const slow = {
      check: async () => {
        await new Promise((r) => setTimeout(r, 60));
        done = true;
        return undefined;
      },
    } as unknown as Watchdog;
    const guard = startWatchdog(slow, () => {}, 5);
    await new Promise((r) => setTimeout(r, 20)); // a check is running now
    await guard.stop();
    expect(done).toBe(true);
  });

  it("tapHistory shows every appended event, which still reaches the file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-watchdog-"));
    const history = await HistoryWriter.open(path.join(dir, "history.jsonl"));
    const seen: HistoryEvent[] = [];
    tapHistory(history, (e) => seen.push(e));
    history.append(invoke(1));
    history.append(outcome("ok", 2));
    await history.close();
    expect(seen.map((e) => e.type)).toEqual(["invoke", "ok"]);
    expect(
      fs.readFileSync(path.join(dir, "history.jsonl"), "utf8").trim().split("\n"),
    ).toHaveLength(2);
  });
});

describe("ProcessedCounter", () => {
  it("counts processed items of the workers' files as they grow, partial lines included", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-processed-"));
    const line = (items: number, outcome: string) =>
      JSON.stringify({
        type: "processed",
        worker: "0.0",
        partition: 0,
        fromOffset: 0,
        toOffset: items - 1,
        items: Array.from({ length: items }, (_, i) => [0, i]),
        outcome,
        time: 1,
      });
    const a = path.join(dir, "processor-0-0.jsonl");
    const counter = new ProcessedCounter(dir);
    expect(counter.count()).toBe(0);
    const first = `${line(3, "ok")}\n${line(5, "unknown")}\n`;
    const second = line(4, "aborted");
    fs.writeFileSync(a, first + second.slice(0, 10));
    expect(counter.count()).toBe(3);
    fs.appendFileSync(a, `${second.slice(10)}\n`);
    expect(counter.count()).toBe(7);
    fs.writeFileSync(path.join(dir, "processor-0-1.jsonl"), `${line(2, "ok")}\n`);
    fs.writeFileSync(path.join(dir, "worker-0.0.log"), `${line(50, "ok")}\n`);
    expect(counter.count()).toBe(9);
    expect(counter.count()).toBe(9);
  });
});
