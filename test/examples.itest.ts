/**
 * The examples under examples/, run as a user would (`run --profile examples/…`) on the real
 * stack: a Kafka Streams app (Java, built with Maven) and a Python consumer writing to PostgreSQL
 * (confluent-kafka, librdkafka), each with its known answer. examples/build.sh builds what they
 * need first (quick when built: .ci/run builds them before the tests).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../src/report/report.js";
import { hop, pgUrl, runProfile } from "./helpers.js";

const EXAMPLES = path.resolve(import.meta.dirname, "..", "examples");

function runExample(file: string): Promise<{ code: number | null; report: Report }> {
  return runProfile(path.join(EXAMPLES, file), [], {
    env: { KAFKA_CHAOS_PG_URL: pgUrl() },
    timeoutMs: 240_000,
  });
}

beforeAll(() => {
  execFileSync("bash", [path.join(EXAMPLES, "build.sh")], { stdio: "inherit", timeout: 600_000 });
}, 620_000);

describe("Kafka Streams example", () => {
  it("exactly_once_v2 under a cut and a crash: 0 lost, 0 duplicates, 0 aborted reads, exit 0", async () => {
    const { code, report } = await runExample("kafka-streams/streams-exactly-once.yaml");
    const e2e = hop(report, "end-to-end");
    expect({ lost: e2e.lost, duplicated: e2e.duplicated, abortedReads: e2e.abortedReads }).toEqual({
      lost: 0,
      duplicated: 0,
      abortedReads: 0,
    });
    expect(e2e.in).toBeGreaterThan(0);
    expect(report.processor?.crashes.length).toBe(1);
    expect(code).toBe(0);
  }, 300_000);

  it("at_least_once claiming at-least-once: a crash duplicates, nothing lost, exit 0", async () => {
    const { code, report } = await runExample("kafka-streams/streams-at-least-once.yaml");
    expect(hop(report, "end-to-end").lost).toBe(0);
    expect(hop(report, "end-to-end").duplicated).toBeGreaterThan(0);
    expect(code).toBe(0);
  }, 300_000);

  it("at_least_once claiming exactly-once: the duplicates break the claim, exit 1", async () => {
    const { code, report } = await runExample("kafka-streams/streams-alo-claims-eos.yaml");
    expect(hop(report, "end-to-end").duplicated).toBeGreaterThan(0);
    expect(report.verdict).toBe("violation");
    expect(code).toBe(1);
  }, 300_000);
});

describe("Python + PostgreSQL example", () => {
  it("plain INSERT, commit after: a crash duplicates rows, nothing lost, exit 0", async () => {
    const { code, report } = await runExample("python-postgres/python-plain-insert.yaml");
    expect(hop(report, "end-to-end").lost).toBe(0);
    expect(hop(report, "consumer-sink").duplicated).toBeGreaterThan(0);
    expect(code).toBe(0);
  }, 300_000);

  it("INSERT … ON CONFLICT DO NOTHING: 0 duplicate rows, exit 0", async () => {
    const { code, report } = await runExample("python-postgres/python-on-conflict.yaml");
    expect(hop(report, "consumer-sink").duplicated).toBe(0);
    expect(hop(report, "end-to-end").duplicated).toBe(0);
    expect(hop(report, "end-to-end").lost).toBe(0);
    expect(report.processor?.crashes.length).toBeGreaterThan(0);
    expect(code).toBe(0);
  }, 300_000);

  it("commit before the write (the bug): a crash loses acked records, exit 1", async () => {
    const { code, report } = await runExample("python-postgres/python-commit-before-write.yaml");
    expect(hop(report, "end-to-end").lostAcked).toBeGreaterThan(0);
    expect(report.verdict).toBe("violation");
    expect(code).toBe(1);
  }, 300_000);
});
