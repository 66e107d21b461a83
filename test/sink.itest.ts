import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { Report } from "../src/report/report.js";
import {
  bootstrap,
  hop,
  pgUrl,
  runCli,
  runProfile,
  toxiproxyUrl,
  writeProfile,
  listTopics,
} from "./helpers.js";

const MESSAGES = ["--messages", "6000"];
const PROFILES_DIR = path.resolve(import.meta.dirname, "..", "profiles");
const SINKS = ["sqlite", "postgres"] as const;
type SinkType = (typeof SINKS)[number];

/** The sink block of a profile on this sink type (postgres: the test database). */
function sinkBlock(type: SinkType, mode: string): string {
  return type === "postgres"
    ? `sink:\n  type: postgres\n  mode: ${mode}\n  url: "${pgUrl()}"\n`
    : `sink:\n  type: sqlite\n  mode: ${mode}\n`;
}

/** A built-in sink profile as is (sqlite), or the same profile on the test PostgreSQL. */
function builtIn(name: string, type: SinkType): string {
  if (type === "sqlite") return name;
  const text = fs.readFileSync(path.join(PROFILES_DIR, `${name}.yaml`), "utf8");
  const mode = /^sink:\n {2}type: sqlite\n {2}mode: (\S+)$/m.exec(text)?.[1];
  if (!mode) throw new Error(`${name}: no sqlite sink block`);
  return writeProfile(
    text.replace(/^sink:\n {2}type: sqlite\n {2}mode: \S+\n/m, sinkBlock(type, mode)),
  );
}

function modeProfile(type: SinkType, mode: string, expect: string, claims = "at-least-once") {
  return writeProfile(`
name: ${mode}-sink
claims: ${claims}
producer: { acks: all, retries: 10 }
workload: { messages: 6000, rate: 4000 }
processor: { commit: after }
${sinkBlock(type, mode)}
expect:
${expect}
`);
}

const crash = (point: string) => ["--fault", `crash-consumer:point=${point},after=1500`];

function sinkCounts(report: Report) {
  const h = hop(report, "consumer-sink");
  return { lost: h.lost, duplicated: h.duplicated };
}

/** Tables of runs left in the test database (the tool drops its own). */
async function leftTables(): Promise<string[]> {
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    const res = await client.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE tablename LIKE 'kc_%'",
    );
    return res.rows.map((r) => r.tablename);
  } finally {
    await client.end();
  }
}

describe.each(SINKS)("sink %s: known answers on the real stack", (type) => {
  const skip = type === "postgres" && pgUrl() === "";

  it.skipIf(skip)(
    "plain + crash after the sink write, before the commit: duplicate rows, no loss, exit 0",
    async () => {
      const before = type === "postgres" ? await leftTables() : [];
      const file = modeProfile(type, "plain", "  broker-consumer: [lost]\n  consumer-sink: [lost]");
      const { code, report } = await runProfile(file, [
        ...MESSAGES,
        ...crash("after-sink-write-before-commit"),
      ]);
      expect(report.hops.map((h) => h.name)).toEqual([
        "producer-broker",
        "broker-consumer",
        "consumer-sink",
        "end-to-end",
      ]);
      const sink = sinkCounts(report);
      expect(sink.duplicated).toBeGreaterThan(0);
      expect(sink.lost).toBe(0);
      expect(hop(report, "end-to-end").duplicated).toBe(sink.duplicated);
      expect(report.warnings.join("\n")).not.toMatch(/never happened/);
      expect(code).toBe(0);
      if (type === "postgres") expect(await leftTables()).toEqual(before);
    },
  );

  it.skipIf(skip)(
    "idempotent (at-least-once-idempotent-sink) + the same crash: re-delivered, yet 0 lost, 0 duplicated in the sink, exit 0",
    async () => {
      const { code, report } = await runProfile(builtIn("at-least-once-idempotent-sink", type), [
        ...MESSAGES,
        ...crash("after-sink-write-before-commit"),
      ]);
      expect(hop(report, "broker-consumer").duplicated).toBeGreaterThan(0);
      expect(sinkCounts(report)).toEqual({ lost: 0, duplicated: 0 });
      expect(hop(report, "end-to-end").duplicated).toBe(0);
      expect(report.warnings.join("\n")).not.toMatch(/never happened/);
      expect(code).toBe(0);
    },
  );

  it.skipIf(skip)(
    "upsert-versioned + the same crash: one row per message, 0 lost, 0 duplicated, exit 0",
    async () => {
      const expect_ = "  broker-consumer: [lost]\n  consumer-sink: [lost, duplicated]";
      const { code, report } = await runProfile(modeProfile(type, "upsert-versioned", expect_), [
        ...MESSAGES,
        ...crash("after-sink-write-before-commit"),
      ]);
      expect(hop(report, "broker-consumer").duplicated).toBeGreaterThan(0);
      expect(sinkCounts(report)).toEqual({ lost: 0, duplicated: 0 });
      expect(code).toBe(0);
    },
  );

  it.skipIf(skip).each(["mid-db-transaction", "after-sink-write-before-commit"])(
    "atomic (exactly-once-db) + crash %s: 0 lost, 0 duplicated, exit 0",
    async (point) => {
      const { code, report } = await runProfile(builtIn("exactly-once-db", type), [
        ...MESSAGES,
        ...crash(point),
      ]);
      expect(report.processor?.crashes.map((c) => c.point)).toEqual([point]);
      expect(sinkCounts(report)).toEqual({ lost: 0, duplicated: 0 });
      const consumer = hop(report, "broker-consumer");
      expect([consumer.lost, consumer.duplicated]).toEqual([0, 0]);
      expect(hop(report, "end-to-end").in).toBe(6000);
      expect(hop(report, "end-to-end").out).toBe(6000);
      expect(code).toBe(0);
    },
  );

  it.skipIf(skip)(
    "exactly-once claimed with a plain sink + crash: violation at consumer-sink, exit 1; reconcile agrees from the files",
    async () => {
      const file = modeProfile(
        type,
        "plain",
        "  broker-consumer: [lost]\n  consumer-sink: [lost, duplicated]\n  end-to-end: [lost, duplicated]",
        "exactly-once",
      );
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-sink-"));
      const { code, report } = await runProfile(file, [
        ...MESSAGES,
        ...crash("after-sink-write-before-commit"),
        "--out",
        out,
      ]);
      expect(report.verdict).toBe("violation");
      const v = report.violations.find((x) => x.hop === "consumer-sink");
      expect(v?.count).toBe("duplicated");
      expect(v?.examples.length).toBeGreaterThan(0);
      expect(code).toBe(1);
      expect(fs.existsSync(path.join(out, "drain-sink.jsonl"))).toBe(true);
      const again = await runCli(["reconcile", out, "--json", "-"]);
      expect(again.code).toBe(1);
      const rejudged = JSON.parse(again.stdout) as Report;
      expect(rejudged.hops).toEqual(report.hops);
    },
  );
});

describe("sink: errors", () => {
  it("an unreachable PostgreSQL exits 3 with one line naming the host, and leaves nothing behind", async () => {
    const before = await listTopics();
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-sink-")), "run");
    const file = writeProfile(`
name: unreachable-sink
sink: { type: postgres, mode: atomic, url: "postgres://nobody@127.0.0.1:1/db" }
`);
    const r = await runCli([
      "run",
      "--profile",
      file,
      "--bootstrap",
      bootstrap(),
      "--toxiproxy",
      toxiproxyUrl(),
      "--out",
      out,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("127.0.0.1:1");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.ms).toBeLessThan(15_000);
    expect(fs.existsSync(out)).toBe(false);
    expect(await listTopics()).toEqual(before);
  });
});
