import { describe, expect, it } from "vitest";
import { bootstrap, hop, runCli, runProfile, writeProfile, listTopics } from "./helpers.js";

const PROFILES = ["at-most-once", "at-least-once", "idempotent-producer", "exactly-once"];
const HOPS = ["producer-broker", "broker-consumer", "processor-output", "end-to-end"];

describe("run: known answers on the real stack", () => {
  it.each(PROFILES)("%s without faults: every count is zero, exit 0", async (profile) => {
    const { code, report } = await runProfile(profile, ["--fault", "none", "--messages", "5000"]);
    expect(code).toBe(0);
    expect(report.verdict).toBe("pass");
    expect(report.faults).toEqual([]);
    expect(report.messages.attempted).toBe(5000);
    expect(report.hops.map((h) => h.name)).toEqual(HOPS);
    for (const h of report.hops) {
      expect(h.in).toBe(5000);
      expect(h.out).toBe(5000);
      expect([h.lost, h.duplicated, h.reordered, h.unexpected, h.abortedReads]).toEqual([
        0, 0, 0, 0, 0,
      ]);
    }
  });

  it("at-most-once (acks=0, retries=0) + cut-connection mid-run: loss, no duplicates, exit 0", async () => {
    const { code, report } = await runProfile("at-most-once", ["--fault", "cut-connection:for=1s"]);
    const h = hop(report, "producer-broker");
    expect(report.faults).toHaveLength(1);
    expect(h.lost).toBeGreaterThan(0);
    expect(h.lostAcked).toBe(0); // with acks=0 nothing is ever acked
    expect(report.messages.acked).toBe(0);
    expect(h.duplicated).toBe(0);
    expect(code).toBe(0);
  });

  it("at-least-once + drop-acks on the leader: duplicates, no acked loss, exit 0", async () => {
    const { code, report } = await runProfile("at-least-once", ["--fault", "drop-acks"]);
    const h = hop(report, "producer-broker");
    expect(report.faults[0]?.endMs).not.toBeNull();
    expect(h.duplicated).toBeGreaterThan(0);
    expect(h.examples.duplicated.length).toBeGreaterThan(0);
    expect(h.lostAcked).toBe(0);
    expect(code).toBe(0);
  });

  it("idempotent-producer + drop-acks: no duplicates, no acked loss, exit 0", async () => {
    const { code, report } = await runProfile("idempotent-producer", ["--fault", "drop-acks"]);
    const h = hop(report, "producer-broker");
    expect(report.faults).toHaveLength(1);
    expect(h.duplicated).toBe(0);
    expect(h.lostAcked).toBe(0);
    expect(code).toBe(0);
  });

  it("exactly-once (transactional producer) + drop-acks: no loss, no duplicates, exit 0", async () => {
    const { code, report } = await runProfile("exactly-once", ["--fault", "drop-acks"]);
    const h = hop(report, "producer-broker");
    expect(report.faults).toHaveLength(1);
    expect([h.lost, h.duplicated]).toEqual([0, 0]);
    expect(code).toBe(0);
  });

  it("at-least-once claimed with retries=0 + cut-connection: loss is unacked only, so the acked rule holds", async () => {
    const file = writeProfile(`
name: at-least-once-no-retries
claims: at-least-once
producer: { acks: all, retries: 0 }
workload: { messages: 20000, rate: 4000 }
`);
    const { code, report } = await runProfile(file, ["--fault", "cut-connection:for=1s"]);
    const h = hop(report, "producer-broker");
    // Sends that failed after the cut were never acked: they are lost, but lost *unacked*.
    expect(h.lost).toBeGreaterThan(0);
    expect(h.lostUnacked).toBe(h.lost);
    expect(h.lostAcked).toBe(0);
    expect(report.messages.unknown + report.messages.failed).toBeGreaterThanOrEqual(h.lost);
    expect(h.duplicated).toBe(0); // no retries: nothing can be written twice
    expect(report.warnings.join("\n")).toMatch(/unacked/);
    expect(code).toBe(0);
  });

  it.each(["kafkajs", "librdkafka"])(
    "producers on other cores (producerThreads: %s), transactions of 100 ms: every count zero without faults",
    async (client) => {
      const file = writeProfile(`
name: threads-exactly-once
client: ${client}
claims: exactly-once
producer: { idempotent: true, transactional: true, maxInFlight: 1, batchSize: 500 }
workload: { messages: 20000, rate: 0, producers: 2, producerThreads: true }
processor: { commit: transaction, commitIntervalMs: 100 }
`);
      const { code, report } = await runProfile(file, ["--fault", "none"]);
      expect(report.messages.attempted).toBe(20000);
      for (const h of report.hops) {
        expect([h.name, h.lost, h.duplicated, h.reordered, h.abortedReads]).toEqual([
          h.name,
          0,
          0,
          0,
          0,
        ]);
      }
      expect(report.clients?.producer ?? "").toContain(client);
      expect(code).toBe(0);
    },
  );

  it.each(["latency:latency=100ms,jitter=20ms", "bandwidth:rate=64", "reset-peer", "slow-close"])(
    "at-least-once + %s: no acked loss, exit 0",
    async (fault) => {
      const { code, report } = await runProfile("at-least-once", [
        "--fault",
        fault,
        "--messages",
        "8000",
      ]);
      expect(report.faults).toHaveLength(1);
      expect(hop(report, "producer-broker").lostAcked).toBe(0);
      expect(code).toBe(0);
    },
  );
});

describe("run: errors and interruption", () => {
  it("a bad profile exits 2 with one line naming the file and field", async () => {
    const file = writeProfile("name: bad\nproducer: { acks: 0, idempotent: true }\n");
    const r = await runCli(["run", "--profile", file, "--bootstrap", bootstrap()]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain("producer.acks");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unreachable cluster exits 3 within 15 s, naming the host", async () => {
    const r = await runCli(
      ["run", "--profile", "at-least-once", "--bootstrap", "127.0.0.1:1"],
      30_000,
    );
    expect(r.code).toBe(3);
    expect(r.ms).toBeLessThan(15_000);
    expect(r.stderr).toContain("127.0.0.1:1");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unreachable Toxiproxy exits 3 and creates nothing on the cluster", async () => {
    const before = await listTopics();
    const r = await runCli([
      "run",
      "--profile",
      "at-least-once",
      "--bootstrap",
      bootstrap(),
      "--toxiproxy",
      "http://127.0.0.1:1",
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("http://127.0.0.1:1");
    expect(await listTopics()).toEqual(before);
  });
});
