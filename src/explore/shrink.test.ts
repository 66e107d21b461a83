import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { parseFault, type Fault } from "../faults/spec.js";
import { profileSchema } from "../profiles/schema.js";
import type { Case } from "./case.js";
import { shrink, stepsFrom } from "./shrink.js";

const profile = profileSchema.parse({
  name: "p",
  workload: { messages: 16_000, rate: 2000, partitions: 6 },
  processor: { enabled: true, commit: "before", workers: 3 },
});

function caseOf(specs: string[], extra: Partial<Case> = {}): Case {
  return {
    faults: specs.map(parseFault),
    messages: 16_000,
    rate: 2000,
    partitions: 6,
    workers: 3,
    seed: 1,
    ...extra,
  };
}

/** A fake judge with a known minimal answer: it fails while a crash-consumer is in the case. */
const hasCrash = (c: Case) => c.faults.some((f) => f.type === "crash-consumer");

function judge(fails: (c: Case) => boolean) {
  let calls = 0;
  return {
    fails: async (c: Case) => {
      calls += 1;
      return { failed: fails(c), replays: 1 };
    },
    calls: () => calls,
  };
}

describe("shrink", () => {
  it("drops every fault the failure does not need and cuts the knobs to their floors", async () => {
    const start = caseOf([
      "drop-acks:at=3s,for=4s",
      "crash-consumer:point=after-commit-before-process,after=2000,worker=1",
      "latency:at=5000msg,for=2s",
    ]);
    const { minimal, steps, stoppedBy } = await shrink(profile, start, judge(hasCrash).fails);
    expect(stoppedBy).toBe("local-minimum");
    expect(minimal.faults.map((f) => f.type)).toEqual(["crash-consumer"]);
    expect(minimal.messages).toBe(500);
    expect(minimal.workers).toBe(2); // worker=1 needs 2 slots
    expect(minimal.partitions).toBe(1);
    expect(minimal.rate).toBe(125);
    expect(steps.filter((s) => s.kept).length).toBeGreaterThan(5);
    // The only steps refused: those that dropped the crash.
    const refused = steps.filter((s) => !s.kept).map((s) => s.step);
    expect(refused.every((s) => s.startsWith("drop crash-consumer"))).toBe(true);
  });

  it("keeps a step only when the judge still fails; a case the judge passes is never the answer", async () => {
    // Fails only while the cut lasts 1 s or more and starts no earlier than 2 s.
    const fails = (c: Case) =>
      c.faults.some(
        (f) =>
          f.type === "cut-connection" && f.duration >= 1000 && "ms" in f.at! && f.at.ms >= 2000,
      );
    const start = caseOf(["cut-connection:at=8s,for=6s", "drop-acks:at=1s"]);
    const { minimal } = await shrink(profile, start, judge(fails).fails);
    expect(fails(minimal)).toBe(true);
    expect(minimal.faults).toHaveLength(1);
    const cut = minimal.faults[0] as Fault;
    expect(cut.duration).toBe(1500); // 6s → 3s → 1.5s; 700ms would pass
    expect(cut.at).toEqual({ ms: 2000 }); // 8s → 4s → 2s; 1s would pass
  });

  it("stops when the budget says so, with the smallest failing case so far", async () => {
    let budget = 3;
    const { minimal, steps, stoppedBy } = await shrink(
      profile,
      caseOf(["drop-acks:at=3s", "crash-consumer:at=2s"]),
      judge(hasCrash).fails,
      () => budget-- > 0,
    );
    expect(stoppedBy).toBe("budget");
    expect(steps).toHaveLength(3);
    expect(hasCrash(minimal)).toBe(true);
  });

  it("moves faults placed by messages with the messages when it halves them", () => {
    const c = caseOf([
      "drop-acks:at=8000msg",
      "crash-consumer:point=after-commit-before-process,after=4000",
    ]);
    const halved = stepsFrom(profile, c).find((s) => s.label.startsWith("messages"))!;
    expect(halved.next.messages).toBe(8000);
    expect(halved.next.faults[0]!.at).toEqual({ messages: 4000 });
    expect(halved.next.faults[1]!.params).toMatchObject({ after: 2000 });
  });

  const specs = fc.subarray(
    [
      "drop-acks:at=3s,for=4s",
      "cut-connection:at=6000msg,for=2s",
      "latency:at=2s,for=5s,latency=300ms",
      "crash-consumer:at=4s",
      "crash-consumer:point=after-commit-before-process,after=3000,worker=2",
      "reset-peer:at=7s",
    ],
    { minLength: 1 },
  );

  test.prop([specs, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 500, max: 4000 })])(
    "the shrunk case still fails and no single further step keeps it failing",
    async (list, need, minMessages) => {
      // A judge with a known shape: fails while the case has at least min(need, start) faults
      // and enough messages.
      const start = caseOf(list);
      const least = Math.min(need, list.length);
      const fails = (c: Case) => c.faults.length >= least && c.messages >= minMessages;
      if (!fails(start)) return;
      const { minimal, stoppedBy } = await shrink(profile, start, judge(fails).fails);
      expect(stoppedBy).toBe("local-minimum");
      expect(fails(minimal)).toBe(true);
      for (const step of stepsFrom(profile, minimal)) expect(fails(step.next)).toBe(false);
      expect(minimal.faults).toHaveLength(least);
    },
  );
});
