import { describe, expect, it } from "vitest";
import { hop, runProfile, writeProfile } from "./helpers.js";

const MESSAGES = ["--messages", "6000"];

describe("pipeline: consumer-side known answers on the real stack", () => {
  it("at-most-once + crash after commit, before processing: loss at broker→consumer, no duplicates, exit 0", async () => {
    const { code, report } = await runProfile("at-most-once", [
      ...MESSAGES,
      "--fault",
      "crash-consumer:point=after-commit-before-process,after=1500",
    ]);
    const consumer = hop(report, "broker-consumer");
    expect(report.faults.map((f) => f.type)).toEqual(["crash-consumer#1"]);
    expect(consumer.lost).toBeGreaterThan(0);
    expect(consumer.lostAcked + consumer.lostUnacked).toBe(consumer.lost);
    for (const h of report.hops) expect(h.duplicated).toBe(0);
    expect(hop(report, "end-to-end").lost).toBeGreaterThanOrEqual(consumer.lost);
    expect(report.warnings.join("\n")).not.toMatch(/never happened/);
    expect(code).toBe(0);
  });

  it("at-least-once + crash after processing, before commit: duplicates at broker→consumer and end to end, no loss, exit 0", async () => {
    const { code, report } = await runProfile("at-least-once", [
      ...MESSAGES,
      "--fault",
      "crash-consumer:point=after-process-before-commit,after=1500",
    ]);
    expect(hop(report, "broker-consumer").duplicated).toBeGreaterThan(0);
    expect(hop(report, "end-to-end").duplicated).toBeGreaterThan(0);
    for (const h of report.hops) expect(h.lost).toBe(0);
    expect(code).toBe(0);
  });

  it("at-least-once claimed but the application commits before processing: the crash loses messages, exit 1", async () => {
    const file = writeProfile(`
name: at-least-once-commit-before
claims: at-least-once
producer: { acks: all, retries: 10 }
workload: { messages: 6000, rate: 4000 }
processor: { commit: before }
expect:
  broker-consumer: [lost]
`);
    const { code, report } = await runProfile(file, [
      "--fault",
      "crash-consumer:point=after-commit-before-process,after=1500",
    ]);
    expect(report.verdict).toBe("violation");
    const consumer = hop(report, "broker-consumer");
    expect(consumer.lost).toBeGreaterThan(0);
    expect(consumer.ok).toBe(false);
    expect(
      report.violations.some((v) => v.hop === "broker-consumer" && v.examples.length > 0),
    ).toBe(true);
    // The skipped messages were acked by the broker: end to end they are acked losses.
    expect(hop(report, "end-to-end").lostAcked).toBeGreaterThan(0);
    expect(code).toBe(1);
  });

  it.each([
    ["drop-acks on the producer", "drop-acks"],
    ["cut processor connections", "cut-connection:role=processor,for=2s"],
    ["drop-acks on the processor's coordinators", "drop-acks:role=processor,target=coordinator"],
    ["crash-consumer mid-transaction", "crash-consumer:point=mid-transaction,after=1500"],
    ["crash-producer (zombie fenced)", "crash-producer"],
  ])(
    "exactly-once + %s: end to end 0 lost, 0 duplicated, 0 aborted reads, exit 0",
    async (_, fault) => {
      const { code, report } = await runProfile("exactly-once", [...MESSAGES, "--fault", fault]);
      const e2e = hop(report, "end-to-end");
      expect([e2e.lost, e2e.duplicated, e2e.abortedReads]).toEqual([0, 0, 0]);
      for (const h of report.hops) expect(h.abortedReads).toBe(0);
      expect(report.warnings.join("\n")).not.toMatch(/never/);
      expect(code).toBe(0);
    },
  );

  it("exactly-once with abort-rate 0.2: aborted output is never read read_committed, but read_uncommitted sees it", async () => {
    const file = writeProfile(`
name: exactly-once-aborts
claims: exactly-once
producer: { acks: all, retries: 10, idempotent: true, transactional: true, maxInFlight: 1 }
workload: { messages: 6000, rate: 4000 }
processor: { commit: transaction, abortRate: 0.2 }
expect:
  producer-broker: [lost, duplicated]
  broker-consumer: [lost, duplicated]
  processor-output: [lost, duplicated]
  end-to-end: [lost, duplicated, abortedReads]
`);
    const { code, report } = await runProfile(file, ["--fault", "none"]);
    const e2e = hop(report, "end-to-end");
    expect([e2e.lost, e2e.duplicated, e2e.abortedReads]).toEqual([0, 0, 0]);
    expect(e2e.abortedVisible).toBeGreaterThan(0);
    expect(code).toBe(0);
  });
});
