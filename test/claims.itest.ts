import { describe, expect, it } from "vitest";
import { hop, runProfile, writeProfile } from "./helpers.js";

/** A user's own profile: the claim, the settings, no expect list. */
const claimsOnly = (claims: string, extra = "") =>
  writeProfile(`name: claims-only-${claims}
claims: ${claims}
producer:
  idempotent: false
  acks: all
  retries: 10
processor:
  commit: after
workload:
  messages: 6000
  rate: 3000
faults:
  - drop-acks
${extra}`);

describe("the claim alone sets the checks (real stack)", () => {
  it("exactly-once claimed, non-idempotent producer, no expect list, drop-acks: a violation with its ids", async () => {
    const { code, report, stderr } = await runProfile(claimsOnly("exactly-once"));
    const e2e = hop(report, "end-to-end");
    expect(hop(report, "producer-broker").duplicated).toBeGreaterThan(0);
    expect(e2e.duplicated).toBeGreaterThan(0);
    expect(e2e.ok).toBe(false);
    expect(report.verdict).toBe("violation");
    expect(code).toBe(1);
    const v = report.violations.find((x) => x.hop === "end-to-end" && x.count === "duplicated");
    expect(v?.examples.length).toBeGreaterThan(0);
    // The settings were called out before the run, and in the report.
    expect(stderr).toMatch(/warning: claims exactly-once, but producer\.idempotent is false/);
    expect(report.warnings.some((w) => w.includes("producer.idempotent is false"))).toBe(true);
  });

  it("the same run claiming at-least-once passes: duplicates are allowed", async () => {
    const { code, report } = await runProfile(claimsOnly("at-least-once"));
    expect(hop(report, "end-to-end").lostAcked).toBe(0);
    expect(report.verdict).toBe("pass");
    expect(report.relaxed).toEqual([]);
    expect(code).toBe(0);
  });

  it("a relaxed exactly-once claim passes only as relaxed, and says so", async () => {
    const relax = `relax:
  - { hop: end-to-end, count: duplicated, reason: "downstream deduplicates by message id" }
`;
    const { code, report } = await runProfile(claimsOnly("exactly-once", relax));
    expect(hop(report, "end-to-end").allowed.duplicates).toBe(true);
    expect(report.relaxed).toEqual([
      { hop: "end-to-end", count: "duplicated", reason: "downstream deduplicates by message id" },
    ]);
    expect(report.warnings[0]).toMatch(/^claim relaxed: duplicated at end-to-end/);
    // With duplicates relaxed, what is left of exactly-once still holds under drop-acks.
    expect(report.verdict).toBe("pass");
    expect(code).toBe(0);
  });
});
