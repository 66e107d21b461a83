import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { bootstrap, proxyNames, runCli, runProfile, toxiproxyUrl, listTopics } from "./helpers.js";

const target = () => ["--bootstrap", bootstrap(), "--toxiproxy", toxiproxyUrl()];

describe("CI gate", () => {
  it("--junit writes valid JUnit XML and GITHUB_STEP_SUMMARY gets a table", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-gate-"));
    const junit = path.join(dir, "junit.xml");
    const summary = path.join(dir, "summary.md");
    process.env.GITHUB_STEP_SUMMARY = summary;
    try {
      const { code } = await runProfile("at-least-once", ["--messages", "3000", "--junit", junit]);
      expect(code).toBe(0);
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY;
    }
    const xml = fs.readFileSync(junit, "utf8");
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml);
    expect(doc.testsuites.tests).toBe("4");
    expect(doc.testsuites.failures).toBe("0");
    expect(fs.readFileSync(summary, "utf8")).toMatch(/kafka-chaos: at-least-once — ✅ pass/);
  });

  it("--dry-run prints the plan and touches nothing", async () => {
    const [beforeTopics, beforeProxies] = [await listTopics(), await proxyNames()];
    const r = await runCli([
      "run",
      "--profile",
      "exactly-once",
      "--dry-run",
      "--seed",
      "5",
      ...target(),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/topics to create/);
    expect(r.stdout).toMatch(/kc-\d{8}-\d{6}-[a-z0-9]{4}-input/);
    expect(r.stdout).toMatch(/drop-acks#1/);
    expect(await listTopics()).toEqual(beforeTopics);
    expect(await proxyNames()).toEqual(beforeProxies);
  });

  it("--max-duration stops an overlong run with exit 3, never a pass", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-gate-"));
    const r = await runCli([
      "run",
      "--profile",
      "at-least-once",
      "--messages",
      "1000000",
      "--fault",
      "none",
      "--max-duration",
      "3s",
      "--out",
      out,
      ...target(),
    ]);
    expect(r.code).toBe(3);
    expect(r.ms).toBeLessThan(30_000);
    expect(r.stderr).toMatch(/--max-duration 3s/);
    expect(r.stdout).not.toMatch(/PASS/);
  });

  it("compare runs each profile on the same faults and reports speed and safety", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-compare-"));
    const r = await runCli(
      [
        "compare",
        "--profiles",
        "at-least-once,idempotent-producer",
        "--messages",
        "4000",
        "--fault",
        "drop-acks",
        "--seed",
        "11",
        "--out",
        out,
        "--json",
        "-",
        ...target(),
      ],
      180_000,
    );
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      report: {
        profile: string;
        seed: number;
        faults: unknown[];
        hops: { name: string; duplicated: number }[];
      };
      stats: { throughput: number; p50Ms: number; p99Ms: number };
    }[];
    expect(rows.map((x) => x.report.profile)).toEqual(["at-least-once", "idempotent-producer"]);
    for (const { report, stats } of rows) {
      expect(report.seed).toBe(11);
      expect(report.faults).toHaveLength(1);
      expect(stats.throughput).toBeGreaterThan(0);
      expect(stats.p99Ms).toBeGreaterThanOrEqual(stats.p50Ms);
    }
    const dup = (i: number) =>
      rows[i]?.report.hops.find((h) => h.name === "producer-broker")?.duplicated;
    expect(dup(1)).toBe(0); // the idempotent producer absorbs the retries that at-least-once stores twice
  }, 200_000);
});
