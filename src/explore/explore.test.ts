import { describe, expect, it } from "vitest";
import type { Need } from "../faults/kind.js";
import { profileSchema } from "../profiles/schema.js";
import type { Case } from "./case.js";
import { explore, summaryOf, type ExploreOptions, type TrialOutcome } from "./explore.js";

const profile = profileSchema.parse({
  name: "commit-before",
  workload: { messages: 8000, rate: 2000 },
  processor: { enabled: true, commit: "before", workers: 2 },
});

const available: ReadonlySet<Need> = new Set(["proxies", "workers"]);
const pass: TrialOutcome = { exitCode: 0, violations: [], durationMs: 10_000 };
const loss = (dir?: string): TrialOutcome => ({
  exitCode: 1,
  violations: [{ hop: "broker-consumer", count: "lost", value: 12 }],
  durationMs: 10_000,
  ...(dir ? { dir } : {}),
});
const hasCrash = (c: Case) => c.faults.some((f) => f.type === "crash-consumer");

/** A clock that moves 10 s per trial, so budgets count trials. */
function options(
  runTrial: ExploreOptions["runTrial"],
  extra: Partial<ExploreOptions> = {},
): ExploreOptions {
  let clock = 0;
  return {
    profile,
    scope: { groups: ["network", "process"], available, brokerIds: [1] },
    seed: 42,
    budgetMs: 60 * 60_000,
    replays: 3,
    now: () => clock,
    runTrial: async (c, n, phase) => {
      clock += 10_000;
      return runTrial(c, n, phase);
    },
    ...extra,
  };
}

describe("explore", () => {
  it("finds a violation, confirms it K of K, and shrinks it to the one crash it needs", async () => {
    const e = await explore(options(async (c, n) => (hasCrash(c) ? loss(`run-${n}`) : pass)));
    expect(e.outcome).toBe("violation");
    const f = e.finding!;
    expect(f.signature).toEqual({ hop: "broker-consumer", count: "lost" });
    expect(f.reproduced).toBe(3);
    expect(f.flaky).toBe(false);
    expect(f.minimal.faults.map((x) => x.type)).toEqual(["crash-consumer"]);
    expect(f.shrink!.stoppedBy).toBe("local-minimum");
    expect(hasCrash(f.original)).toBe(true);
    // The minimal run's directory is one that showed the violation on the minimal case.
    const shown = e.trials.find((t) => t.dir === f.minimalDir)!;
    expect(shown.case).toEqual(f.minimal);
    expect(e.trials.map((t) => t.phase).slice(0, 1)).toEqual(["baseline"]);
    expect(e.trials.filter((t) => t.phase === "confirm")).toHaveLength(3);
    expect(e.trials.filter((t) => t.phase === "confirm").every((t) => t.case === f.original)).toBe(
      true,
    );
  });

  it("checks the minimal case with K more replays and steps back to a kept case that holds", async () => {
    // Below 4000 messages the crash loses messages only on its first 3 tries: lucky replays.
    const tries = new Map<string, number>();
    const e = await explore(
      options(async (c) => {
        if (!hasCrash(c)) return pass;
        if (c.messages >= 4000) return loss();
        const key = JSON.stringify(c);
        tries.set(key, (tries.get(key) ?? 0) + 1);
        return tries.get(key)! <= 3 ? loss() : pass;
      }),
    );
    const f = e.finding!;
    expect(f.shrink!.chain.at(-1)!.messages).toBeLessThan(4000);
    expect(f.minimal.messages).toBe(4000);
    expect(f.validated).toBe(3);
    expect(e.trials.some((t) => t.phase === "validate")).toBe(true);
  });

  it("same seed, same exploration", async () => {
    const run = async () => {
      const e = await explore(options(async (c) => (hasCrash(c) ? loss() : pass)));
      return summaryOf(e, "p").trials.map((t) => [t.phase, t.schedule, t.seed]);
    };
    expect(await run()).toEqual(await run());
  });

  it("reports a finding that does not reproduce K of K as flaky, with its rate, and does not shrink it", async () => {
    let crashes = 0;
    const e = await explore(
      options(async (c) => {
        if (!hasCrash(c)) return pass;
        crashes += 1;
        return crashes % 2 === 1 ? loss() : pass;
      }),
    );
    expect(e.outcome).toBe("violation");
    expect(e.finding!.flaky).toBe(true);
    expect(e.finding!.reproduced).toBe(1); // replays 2 and 4 of the crash case pass, 3 fails
    expect(e.finding!.shrink).toBeUndefined();
    // The search went on after it, for a finding that reproduces; every later one was flaky too.
    expect(e.flaky.length).toBeGreaterThan(1);
    expect(e.finding).toBe(e.flaky[0]);
  });

  it("goes on after a flaky finding and shrinks the first that reproduces K of K", async () => {
    // Crashes with a worker slot 0 lose messages every time; others only on the first try.
    const tried = new Set<string>();
    const e = await explore(
      options(async (c) => {
        const crash = c.faults.find((f) => f.type === "crash-consumer");
        if (!crash) return pass;
        if (crash.params.worker === 0) return loss();
        const key = JSON.stringify(c);
        if (tried.has(key)) return pass;
        tried.add(key);
        return loss();
      }),
    );
    expect(e.outcome).toBe("violation");
    expect(e.finding!.flaky).toBe(false);
    expect(e.finding!.shrink).toBeDefined();
    expect(e.flaky.every((f) => f.reproduced < 3)).toBe(true);
    expect(e.finding!.minimal.faults.map((f) => f.params)).toEqual([
      expect.objectContaining({ worker: 0 }),
    ]);
  });

  it("ends with none when the budget runs out, listing what it drew", async () => {
    const e = await explore(options(async () => pass, { budgetMs: 100_000 }));
    expect(e.outcome).toBe("none");
    expect(e.finding).toBeNull();
    expect(e.trials).toHaveLength(10);
    expect(Object.values(e.drawn).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(9);
  });

  it("stops after --runs search trials", async () => {
    const e = await explore(options(async () => pass, { maxTrials: 4 }));
    expect(e.trials.filter((t) => t.phase === "search")).toHaveLength(4);
  });

  it("never takes an exit 3 for a finding, and says infrastructure when it failed most trials", async () => {
    let n = 0;
    const e = await explore(
      options(
        async () =>
          n++ % 3 === 0 ? pass : { exitCode: 3, violations: [], durationMs: 1, error: "down" },
        {
          maxTrials: 8,
        },
      ),
    );
    expect(e.outcome).toBe("infrastructure");
    expect(e.finding).toBeNull();
  });

  it("does not run or count a case the run would refuse", async () => {
    const ran: Case[] = [];
    const e = await explore(
      options(
        async (c) => {
          ran.push(c);
          return pass;
        },
        {
          maxTrials: 20,
          refuses: async (c) => (c.faults.some((f) => f.type === "latency") ? "no" : undefined),
        },
      ),
    );
    expect(ran.slice(1).every((c) => !c.faults.some((f) => f.type === "latency"))).toBe(true);
    expect(e.refused).toBeGreaterThan(0);
    expect(e.drawn.latency).toBeUndefined();
  });

  it("a baseline that violates is a finding with no fault", async () => {
    const e = await explore(options(async () => loss()));
    expect(e.finding!.original.faults).toEqual([]);
    expect(e.finding!.trial).toBe(1);
    expect(e.trials.filter((t) => t.phase === "search")).toHaveLength(0);
  });
});
