import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { kindOf } from "../faults/kinds.js";
import type { Need } from "../faults/kind.js";
import { formatFault, parseFault } from "../faults/spec.js";
import { profileSchema, type Profile } from "../profiles/schema.js";
import { mulberry32 } from "../random.js";
import { caseProblem, profileOf } from "./case.js";
import {
  drawCase,
  drawCases,
  groupOf,
  KIND_GROUPS,
  kindsFor,
  MAX_FAULTS,
  type KindGroup,
  type Scope,
} from "./generate.js";

const COMMITS = ["before", "after", "auto", "transaction"] as const;

function profileWith(commit: (typeof COMMITS)[number], enabled = true, workers = 2): Profile {
  const transactional = commit === "transaction";
  return profileSchema.parse({
    name: "p",
    claims: transactional ? "exactly-once" : "at-least-once",
    producer: transactional ? { idempotent: true, transactional: true } : {},
    workload: { messages: 10_000, rate: 2000 },
    processor: { enabled, commit, workers },
  });
}

const everything: ReadonlySet<Need> = new Set([
  "proxies",
  "workers",
  "apps",
  "brokers",
  "replication-proxies",
]);

function scopeOf(groups: readonly KindGroup[] = KIND_GROUPS, available = everything): Scope {
  return { groups, available, brokerIds: [1, 2, 3], expectedMs: 5000 };
}

describe("drawCase", () => {
  it("same seed, same schedules", () => {
    const profile = profileWith("after");
    const specs = (seed: number) =>
      drawCases(profile, scopeOf(), mulberry32(seed), 20).map((c) => [
        c.seed,
        ...c.faults.map(formatFault),
      ]);
    expect(specs(11)).toEqual(specs(11));
    expect(specs(11)).not.toEqual(specs(12));
  });

  test.prop([
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    fc.constantFrom(...COMMITS),
    fc.boolean(),
    fc.integer({ min: 1, max: 4 }),
    fc.subarray([...KIND_GROUPS], { minLength: 1 }),
  ])(
    "every fault drawn fits the profile, the groups asked for and what the cluster has",
    (seed, commit, enabled, workers, groups) => {
      const profile = profileWith(commit, enabled, workers);
      const available: ReadonlySet<Need> = new Set(["proxies", "workers"]);
      const c = drawCase(profile, scopeOf(groups, available), mulberry32(seed));
      expect(c.faults.length).toBeLessThanOrEqual(MAX_FAULTS);
      expect(caseProblem(profile, c)).toBeUndefined();
      for (const fault of c.faults) {
        const kind = kindOf(fault.type);
        expect(groups).toContain(groupOf(kind));
        expect(kind.needs.every((n) => available.has(n))).toBe(true);
        // Placed: by time or messages, or by its own count (a crash at a point of the loop).
        expect(fault.at !== undefined || kind.selfTriggered?.(fault) === true).toBe(true);
        // What the summary and replay.yaml write reads back to the same fault.
        expect(parseFault(formatFault(fault))).toEqual(fault);
      }
      expect(
        profileSchema.safeParse({ ...profileOf(profile, c), faults: c.faults.map(formatFault) })
          .success,
      ).toBe(true);
    },
  );

  it("draws no broker fault without brokers to break, no process fault without a processor", () => {
    const noBrokers = kindsFor(
      profileWith("after", false),
      scopeOf(KIND_GROUPS, new Set(["proxies", "workers"])),
    );
    expect(noBrokers.map((k) => k.family)).toEqual(noBrokers.map(() => "network"));
  });

  it("over many seeds, draws every kind that fits (crash points included)", () => {
    const profile = profileWith("before", true, 1);
    const seen = new Set<string>();
    for (const c of drawCases(
      profile,
      scopeOf(["network", "process", "broker"]),
      mulberry32(5),
      300,
    )) {
      for (const f of c.faults)
        seen.add(f.type === "crash-consumer" ? `crash-consumer ${f.params.point}` : f.type);
    }
    const expected = kindsFor(profile, scopeOf(["network", "process", "broker"])).map(
      (k) => k.type as string,
    );
    for (const type of expected.filter((t) => t !== "crash-consumer" && t !== "crash-producer"))
      expect(seen).toContain(type);
    expect(seen).toContain("crash-consumer random");
    expect(seen).toContain("crash-consumer after-commit-before-process");
    expect(seen).not.toContain("crash-producer");
    // crash-producer needs commit: transaction; it is not even among the kinds drawn from.
    expect(expected).not.toContain("crash-producer");
    expect(kindsFor(profileWith("transaction"), scopeOf(["process"])).map((k) => k.type)).toEqual([
      "crash-consumer",
      "crash-producer",
    ]);
  });

  it("places half the faults inside the one before them, in ms or in messages", () => {
    const cases = drawCases(profileWith("after"), scopeOf(["network"]), mulberry32(3), 200);
    const ats = cases.flatMap((c) => c.faults.map((f) => f.at!));
    expect(ats.some((a) => "ms" in a)).toBe(true);
    expect(ats.some((a) => "messages" in a)).toBe(true);
    for (const at of ats) {
      if ("messages" in at) expect(at.messages).toBeLessThan(10_000);
    }
  });
});
