import { describe, expect, it } from "vitest";
import { parseFault } from "../faults/spec.js";
import { profileSchema } from "../profiles/schema.js";
import { baseCase, caseProblem, describeCase, profileOf } from "./case.js";

const withProcessor = profileSchema.parse({
  name: "p",
  workload: { messages: 5000, rate: 1000, partitions: 4, duration: "1m" },
  processor: { enabled: true, commit: "after", workers: 3 },
  faults: ["drop-acks"],
});
const producerOnly = profileSchema.parse({ name: "q", processor: { enabled: false } });

describe("case", () => {
  it("a trial's profile is the user's with the case's schedule and knobs, nothing else", () => {
    const c = {
      ...baseCase(withProcessor, 9),
      faults: [parseFault("latency:at=2s")],
      messages: 800,
      rate: 200,
      partitions: 1,
      workers: 2,
    };
    const p = profileOf(withProcessor, c);
    expect(p.faults).toEqual(c.faults);
    expect(p.workload).toEqual({
      ...withProcessor.workload,
      messages: 800,
      rate: 200,
      partitions: 1,
    });
    expect(p.processor).toEqual({ ...withProcessor.processor, workers: 2 });
    expect(p.producer).toBe(withProcessor.producer);
  });

  it("a pipeline without the built-in processor has no workers to cut", () => {
    const c = baseCase(producerOnly, 1);
    expect(c.workers).toBe(0);
    expect(profileOf(producerOnly, c).processor).toEqual(producerOnly.processor);
    expect(describeCase(c)).toBe("no faults | 20000 msgs, unlimited, 3 partition(s), seed 1");
  });

  it("names a fault that does not fit the profile", () => {
    const c = {
      ...baseCase(withProcessor, 1),
      faults: [parseFault("crash-consumer:at=1s,worker=2")],
      workers: 2,
    };
    expect(caseProblem(withProcessor, c)).toBe(
      "crash-consumer:at=1s,worker=2: worker: no worker 2: processor.workers is 2 (slots 0-1)",
    );
    expect(describeCase({ ...c, workers: 3 })).toBe(
      "crash-consumer:at=1s,worker=2 | 5000 msgs, 1000 msg/s, 4 partition(s), 3 worker(s), seed 1",
    );
  });
});
