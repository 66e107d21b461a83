import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { mulberry32, planSchedule } from "./schedule.js";
import { parseFault } from "./spec.js";

const faults = ["drop-acks", "latency:for=2s", "cut-connection"].map(parseFault);

describe("mulberry32", () => {
  it("is deterministic and in [0, 1)", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    for (let i = 0; i < 1000; i++) {
      const value = a();
      expect(value).toBe(b());
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});

describe("planSchedule", () => {
  it("same seed, same schedule", () => {
    const options = { seed: 7, messages: 20_000 };
    expect(planSchedule(faults, options)).toEqual(planSchedule(faults, options));
  });

  it("different seeds give different starts", () => {
    const starts = (seed: number) =>
      planSchedule(faults, { seed, messages: 1_000_000 }).map((entry) => entry.start);
    expect(starts(1)).not.toEqual(starts(2));
  });

  it("draws message starts in the middle 20%–60% of the run", () => {
    for (let seed = 0; seed < 200; seed++) {
      for (const entry of planSchedule(faults, { seed, messages: 20_000 })) {
        expect(entry.start).toMatchObject({ plusMs: 0 });
        const start = entry.start as { messages: number };
        expect(start.messages).toBeGreaterThanOrEqual(4000);
        expect(start.messages).toBeLessThan(12_000);
        expect(entry.stop).toEqual({ messages: start.messages, plusMs: entry.fault.duration });
      }
    }
  });

  it("draws times from expectedDurationMs when messages is not given", () => {
    for (let seed = 0; seed < 200; seed++) {
      const [entry] = planSchedule(faults, { seed, expectedDurationMs: 30_000 });
      const start = entry?.start as { ms: number };
      expect(start.ms).toBeGreaterThanOrEqual(6000);
      expect(start.ms).toBeLessThan(18_000);
      expect(entry?.stop).toEqual({ ms: start.ms + 3000 });
    }
  });

  it("keeps explicit starts", () => {
    const plan = planSchedule(["drop-acks:at=2s,for=1s", "latency:at=500msg"].map(parseFault), {
      seed: 1,
      messages: 20_000,
    });
    expect(plan.map(({ start, stop }) => ({ start, stop }))).toEqual([
      { start: { ms: 2000 }, stop: { ms: 3000 } },
      { start: { messages: 500, plusMs: 0 }, stop: { messages: 500, plusMs: 3000 } },
    ]);
  });

  it("a fault's draw does not depend on whether earlier faults have at=", () => {
    const drawn = parseFault("cut-connection");
    const options = { seed: 99, messages: 50_000 };
    const afterDrawn = planSchedule([parseFault("drop-acks"), drawn], options)[1];
    const afterFixed = planSchedule([parseFault("drop-acks:at=1s"), drawn], options)[1];
    expect(afterFixed?.start).toEqual(afterDrawn?.start);
  });

  it("expands repetitions every `every` ms", () => {
    const plan = planSchedule([parseFault("drop-acks:at=2s,for=3s,repeat=3,every=10s")], {
      seed: 1,
    });
    expect(plan).toMatchObject([
      { index: 0, repetition: 0, label: "drop-acks#1.1", start: { ms: 2000 }, stop: { ms: 5000 } },
      {
        index: 0,
        repetition: 1,
        label: "drop-acks#1.2",
        start: { ms: 12_000 },
        stop: { ms: 15_000 },
      },
      {
        index: 0,
        repetition: 2,
        label: "drop-acks#1.3",
        start: { ms: 22_000 },
        stop: { ms: 25_000 },
      },
    ]);
  });

  it("expands message-triggered repetitions as delays after the trigger", () => {
    const plan = planSchedule([parseFault("latency:at=100msg,for=1s,repeat=2")], { seed: 1 });
    expect(plan.map(({ start, stop }) => ({ start, stop }))).toEqual([
      { start: { messages: 100, plusMs: 0 }, stop: { messages: 100, plusMs: 1000 } },
      { start: { messages: 100, plusMs: 2000 }, stop: { messages: 100, plusMs: 3000 } },
    ]);
  });

  it("labels single faults by type and position, in list order", () => {
    const plan = planSchedule(faults, { seed: 3, messages: 100 });
    expect(plan.map((entry) => entry.label)).toEqual([
      "drop-acks#1",
      "latency#2",
      "cut-connection#3",
    ]);
  });

  it("needs a run length to draw a start", () => {
    expect(() => planSchedule([parseFault("drop-acks")], { seed: 1 })).toThrow(UsageError);
    expect(planSchedule([], { seed: 1 })).toEqual([]);
  });

  it("network faults are started by the nemesis", () => {
    const plan = planSchedule(faults, { seed: 1, messages: 100 });
    expect(plan.map((entry) => entry.trigger)).toEqual(["nemesis", "nemesis", "nemesis"]);
  });
});

describe("planSchedule: crash faults", () => {
  const options = { seed: 5, messages: 20_000 };

  it("crash-consumer with after= starts after that many processed messages, stop == start", () => {
    const fault = parseFault("crash-consumer:point=after-commit-before-process,after=3000");
    const [entry] = planSchedule([fault], options);
    expect(entry).toEqual({
      index: 0,
      repetition: 0,
      label: "crash-consumer#1",
      fault,
      trigger: "worker",
      start: { messages: 3000, plusMs: 0 },
      stop: { messages: 3000, plusMs: 0 },
    });
  });

  it("repeats of a worker-triggered crash are incarnations, not time offsets", () => {
    const fault = parseFault(
      "crash-consumer:point=after-process-before-commit,after=1500,repeat=3",
    );
    const plan = planSchedule([fault], options);
    expect(
      plan.map(({ repetition, label, start, stop }) => ({ repetition, label, start, stop })),
    ).toEqual(
      [0, 1, 2].map((repetition) => ({
        repetition,
        label: `crash-consumer#1.${repetition + 1}`,
        start: { messages: 1500, plusMs: 0 },
        stop: { messages: 1500, plusMs: 0 },
      })),
    );
  });

  it("a deterministic point without after draws 20–60% of the run's messages", () => {
    const fault = parseFault("crash-consumer:point=mid-transaction,repeat=2");
    for (let seed = 0; seed < 100; seed++) {
      const plan = planSchedule([fault], { seed, messages: 20_000 });
      const start = plan[0]?.start as { messages: number; plusMs: number };
      expect(start.messages).toBeGreaterThanOrEqual(4000);
      expect(start.messages).toBeLessThan(12_000);
      for (const entry of plan) {
        expect(entry.trigger).toBe("worker");
        expect(entry.start).toEqual({ messages: start.messages, plusMs: 0 });
        expect(entry.stop).toEqual(entry.start);
      }
    }
  });

  it("a random crash-consumer is the nemesis's: at= or drawn, repeated every `every`", () => {
    const plan = planSchedule([parseFault("crash-consumer:at=4s,repeat=2")], options);
    expect(plan.map(({ trigger, start, stop }) => ({ trigger, start, stop }))).toEqual([
      { trigger: "nemesis", start: { ms: 4000 }, stop: { ms: 4000 } },
      { trigger: "nemesis", start: { ms: 14_000 }, stop: { ms: 14_000 } },
    ]);
    const [drawn] = planSchedule([parseFault("crash-consumer")], options);
    expect(drawn?.trigger).toBe("nemesis");
    expect(drawn?.stop).toEqual(drawn?.start);
  });

  it("crash-producer stays frozen for `for`", () => {
    const plan = planSchedule([parseFault("crash-producer:at=2000msg,for=5s,repeat=2")], options);
    expect(plan.map(({ trigger, start, stop }) => ({ trigger, start, stop }))).toEqual([
      {
        trigger: "nemesis",
        start: { messages: 2000, plusMs: 0 },
        stop: { messages: 2000, plusMs: 5000 },
      },
      {
        trigger: "nemesis",
        start: { messages: 2000, plusMs: 10_000 },
        stop: { messages: 2000, plusMs: 15_000 },
      },
    ]);
  });

  it("a crash with after= still uses its draw, so later faults keep theirs", () => {
    const next = parseFault("cut-connection");
    const withAfter = planSchedule(
      [parseFault("crash-consumer:point=mid-transaction,after=10"), next],
      options,
    )[1];
    const withDraw = planSchedule([parseFault("crash-consumer"), next], options)[1];
    expect(withAfter?.start).toEqual(withDraw?.start);
  });

  it("a worker-triggered crash needs no run length when after= is given", () => {
    const fault = parseFault("crash-consumer:point=mid-transaction,after=10");
    expect(planSchedule([fault], { seed: 1 })[0]?.start).toEqual({ messages: 10, plusMs: 0 });
  });
});
