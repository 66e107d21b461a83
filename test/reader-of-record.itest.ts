/**
 * The reader of record (librdkafka) and its cross-check on a workload where kafkajs's consumer
 * goes wrong: several transactional producers over many partitions, transactions spanning
 * several batches, lost acks. The verdict must rest on what the topic committed, and a
 * consumer's reads of aborted records must be booked on the consumer.
 */
import { describe, expect, it } from "vitest";
import { hop, runCli, runProfile, bootstrap, toxiproxyUrl, writeProfile } from "./helpers.js";

const PROFILE = writeProfile(`
name: eos-many-producers
claims: exactly-once
producer:
  acks: all
  idempotent: true
  transactional: true
  maxInFlight: 1
  batchSize: 100
  transactionMs: 100
workload:
  messages: 6000
  rate: 3000
  keys: 1000
  partitions: 12
  producers: 3
processor:
  commit: transaction
  workers: 2
  isolation: read_committed
  commitIntervalMs: 100
faults:
  - drop-acks
`);

describe("reader of record", () => {
  it("librdkafka processor: the reader and the cross-check agree, and the claim holds", async () => {
    const { code, report } = await runProfile(PROFILE, ["--client", "librdkafka"]);
    expect(report.clients?.processor).toMatch(/^librdkafka /);
    expect(report.clients?.reader).toMatch(/^librdkafka /);
    for (const h of report.hops) {
      expect([h.name, h.duplicated, h.lostAcked, h.abortedReads]).toEqual([h.name, 0, 0, 0]);
    }
    expect(code).toBe(0);
  }, 120_000);

  it("kafkajs processor: whatever it reads of aborted transactions is its aborted reads, never a producer duplicate", async () => {
    const { code, report } = await runProfile(PROFILE, ["--client", "kafkajs"]);
    expect(report.clients?.processor).toMatch(/^kafkajs /);
    const consumed = hop(report, "broker-consumer");
    expect(hop(report, "producer-broker").duplicated).toBe(0);
    expect(consumed.duplicated).toBe(0);
    // Each aborted record it processed went into a committed output transaction: one extra
    // copy end to end per aborted read, and nothing else breaks the claim.
    expect(hop(report, "end-to-end").duplicated).toBe(consumed.abortedReads);
    expect(hop(report, "end-to-end").lost).toBe(0);
    expect(code).toBe(consumed.abortedReads > 0 ? 1 : 0);
    if (consumed.abortedReads > 0) {
      expect(report.warnings.join("\n")).toMatch(/kafkajs \S+ handed \d+ record\(s\) of aborted/);
    }
  }, 120_000);

  it("readers that disagree end the run with exit 3, never a verdict", async () => {
    const result = await runCli(
      [
        "run",
        "--profile",
        PROFILE,
        "--client",
        "librdkafka",
        "--messages",
        "1200",
        "--fault",
        "none",
        "--bootstrap",
        bootstrap(),
        "--toxiproxy",
        toxiproxyUrl(),
        "--json",
        "-",
      ],
      120_000,
      { KAFKA_CHAOS_TEST_CROSS_CHECK_SKIP: "0" },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /readers disagree on topic kc-\S+-input partition 0: \d+ vs 0 records/,
    );
    expect(result.stdout).not.toMatch(/"verdict"/);
  }, 120_000);
});
