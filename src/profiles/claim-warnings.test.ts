import { describe, expect, it } from "vitest";
import { claimWarnings } from "./claim-warnings.js";
import { listProfiles, loadProfile } from "./load.js";
import { profileSchema, type ProfileInput } from "./schema.js";

const warnings = (input: Omit<ProfileInput, "name">) =>
  claimWarnings(profileSchema.parse({ name: "p", ...input }));

/** Built-ins that show a claim failing on purpose. */
const DEMONSTRATIONS = ["acks1-leader-failover"];

describe("claim vs settings", () => {
  it("finds nothing wrong with the built-in profiles", async () => {
    const builtIns = await listProfiles();
    expect(builtIns.length).toBeGreaterThanOrEqual(6);
    for (const { name } of builtIns) {
      if (DEMONSTRATIONS.includes(name)) continue;
      expect(claimWarnings(await loadProfile(name))).toEqual([]);
    }
  });

  it("warns the built-in demonstrations of a broken claim", async () => {
    for (const name of DEMONSTRATIONS) {
      expect(claimWarnings(await loadProfile(name))).not.toEqual([]);
    }
  });

  it("warns acks=1 under at-least-once only on a replicated topic", () => {
    expect(warnings({ producer: { acks: 1 }, workload: { replicationFactor: 3 } })).toEqual([
      expect.stringMatching(/producer\.acks is 1: .*slow-replication then kill-broker/),
    ]);
    expect(warnings({ producer: { acks: 1 }, workload: { replicationFactor: 1 } })).toEqual([]);
  });

  it("warns an exactly-once claim with a non-idempotent producer and commit after", () => {
    const found = warnings({
      claims: "exactly-once",
      producer: { idempotent: false },
      processor: { commit: "after" },
    });
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^claims exactly-once, but producer\.idempotent is false.*drop-acks/);
    expect(found[1]).toMatch(/processor\.commit is after.*after-process-before-commit/);
  });

  it("takes an idempotent sink as the deduplicating stage", () => {
    const found = warnings({
      claims: "exactly-once",
      producer: { idempotent: false },
      processor: { commit: "after" },
      sink: { type: "sqlite", mode: "idempotent" },
    });
    expect(found).toEqual([]);
  });

  it("warns a plain sink under exactly-once", () => {
    const found = warnings({
      claims: "exactly-once",
      producer: { idempotent: true },
      processor: { commit: "after" },
      sink: { type: "sqlite", mode: "plain" },
    });
    expect(found).toEqual([expect.stringMatching(/sink\.mode is plain.*after-sink-write/)]);
  });

  it("warns at-most-once with retries and with commit after", () => {
    const found = warnings({
      claims: "at-most-once",
      producer: { acks: 1, retries: 3 },
      processor: { commit: "after" },
    });
    expect(found).toEqual([
      expect.stringMatching(/producer\.retries is 3 with acks=1.*drop-acks/),
      expect.stringMatching(/processor\.commit is after/),
    ]);
    expect(warnings({ claims: "at-most-once", producer: { acks: 0, retries: 3 } })).toEqual([
      expect.stringMatching(/processor\.commit is after/),
    ]);
  });

  it("warns at-least-once with acks=0, with no retries, and with commit before", () => {
    expect(warnings({ claims: "at-least-once", producer: { acks: 0, retries: 0 } })).toEqual([
      expect.stringMatching(/producer\.acks is 0.*cut-connection/),
    ]);
    expect(warnings({ claims: "at-least-once", producer: { retries: 0 } })).toEqual([
      expect.stringMatching(/producer\.retries is 0/),
    ]);
    expect(warnings({ claims: "at-least-once", processor: { commit: "before" } })).toEqual([
      expect.stringMatching(/processor\.commit is before.*after-commit-before-process/),
    ]);
  });

  it("accepts commit before when the sink keeps its own offsets atomically", () => {
    const found = warnings({
      claims: "at-least-once",
      processor: { commit: "before" },
      sink: { type: "sqlite", mode: "atomic" },
    });
    expect(found).toEqual([]);
  });
});
