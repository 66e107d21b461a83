/**
 * `explore` on the real 1-node stack: a user's mistake (offsets committed before processing,
 * under an at-least-once claim) is found from no written fault, confirmed, shrunk to the one
 * crash it needs, and the replay profile it writes reproduces it. An at-least-once pipeline that
 * keeps its claim is explored without a false alarm.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bootstrap, runCli, toxiproxyUrl, writeProfile } from "./helpers.js";

function explore(profile: string, out: string, extra: string[]) {
  return runCli(
    [
      "explore",
      "--profile",
      profile,
      "--bootstrap",
      bootstrap(),
      "--toxiproxy",
      toxiproxyUrl(),
      "--out",
      out,
      ...extra,
    ],
    600_000,
  );
}

interface Summary {
  outcome: string;
  trials: { phase: string; schedule: string[]; exitCode: number; verdict: string }[];
  finding: {
    signature: { hop: string; count: string };
    reproduced: string;
    flaky: boolean;
    minimal: { schedule: string[]; messages: number; seed: number };
    shrink: { stoppedBy: string; steps: { step: string; kept: boolean }[] };
  } | null;
  replay: string | null;
  report: string | null;
}

describe("kafka-chaos explore", () => {
  it("finds the loss of commit: before, shrinks it to one crash fault, and the replay reproduces it", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-explore-"));
    const profile = writeProfile(`
name: commit-before
claims: at-least-once
workload: { messages: 1000, rate: 500, partitions: 1 }
processor: { enabled: true, commit: before, workers: 1 }
faults: [drop-acks]
`);
    const result = await explore(profile, out, [
      "--kinds",
      "process",
      "--seed",
      "3",
      "--replays",
      "2",
      "--budget",
      "8m",
    ]);
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as Summary;
    expect(summary.outcome).toBe("violation");
    // The profile's own drop-acks is not explored: only drawn process faults.
    for (const t of summary.trials)
      for (const s of t.schedule) expect(s).toMatch(/^crash-consumer/);
    const f = summary.finding!;
    expect(f.signature).toEqual({ hop: "broker-consumer", count: "lost" });
    expect(f.reproduced).toBe("2/2");
    expect(f.shrink.stoppedBy).toBe("local-minimum");
    expect(f.minimal.schedule).toHaveLength(1);
    expect(f.minimal.schedule[0]).toMatch(/^crash-consumer/);
    expect(result.stdout).toContain("VIOLATION broker-consumer lost");
    expect(result.stdout).toContain(
      `replay: kafka-chaos run --profile ${path.join(out, "replay.yaml")}`,
    );
    expect(fs.existsSync(path.join(out, summary.report!))).toBe(true);

    const replay = await runCli(
      [
        "run",
        "--profile",
        path.join(out, "replay.yaml"),
        "--bootstrap",
        bootstrap(),
        "--toxiproxy",
        toxiproxyUrl(),
        "--out",
        path.join(out, "replayed"),
        "--json",
        "-",
      ],
      120_000,
    );
    expect(replay.code, replay.stderr).toBe(1);
    const report = JSON.parse(replay.stdout) as {
      seed: number;
      violations: { hop: string; count: string }[];
    };
    expect(report.seed).toBe(f.minimal.seed);
    expect(report.violations.map((v) => `${v.hop} ${v.count}`)).toContain("broker-consumer lost");
  }, 660_000);

  it("explores an at-least-once pipeline that keeps its claim: no violation, exit 0", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-explore-"));
    const result = await explore("at-least-once", out, [
      "--kinds",
      "network,process",
      "--runs",
      "3",
      "--messages",
      "3000",
      "--seed",
      "11",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as Summary;
    expect(summary.outcome).toBe("none");
    const searched = summary.trials.filter((t) => t.phase === "search");
    expect(searched).toHaveLength(3);
    expect(searched.every((t) => t.verdict === "pass" && t.schedule.length > 0)).toBe(true);
    expect(result.stdout).toContain("no violation of the claim found in 4 trial(s)");
  }, 600_000);

  it("refuses an unknown fault kind with exit 2, naming the flag", async () => {
    const result = await explore("at-least-once", os.tmpdir(), ["--kinds", "network,disk"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--kinds: unknown kind "disk"; allowed: network, process, broker, app',
    );
  });
});
