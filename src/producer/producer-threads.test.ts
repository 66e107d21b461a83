import { describe, expect, it } from "vitest";
import { MisconfigurationError } from "../errors.js";
import type { HistoryEvent } from "../history/events.js";
import { countEvent, threadError } from "./producer-threads.js";

describe("producer threads: the main thread's progress, from the threads' history events", () => {
  it("counts as runProducer does: invokes sent; ok acked except unconfirmed; fail; unknown", () => {
    const progress = { sent: 0, acked: 0, failed: 0, unknown: 0 };
    const events: HistoryEvent[] = [
      { type: "invoke", producer: 0, from: 0, to: 99, time: 1 },
      { type: "invoke", producer: 1, from: 0, to: 99, time: 1 },
      { type: "invoke", producer: 0, from: 100, to: 199, time: 2 },
      {
        type: "ok",
        producer: 0,
        from: 0,
        to: 99,
        time: 3,
        unconfirmed: {
          partitions: [2],
          seqs: [
            [10, 19],
            [40, 44],
          ],
        },
      },
      { type: "fail", producer: 1, from: 0, to: 99, time: 3 },
      { type: "unknown", producer: 0, from: 100, to: 199, time: 4 },
      { type: "fault", phase: "start", fault: "drop-acks#1", target: "broker-1", time: 4 },
    ];
    for (const e of events) countEvent(progress, e);
    expect(progress).toEqual({ sent: 300, acked: 85, failed: 100, unknown: 115 });
  });

  it("a thread's misconfiguration is thrown as a MisconfigurationError with its exit code", () => {
    const err = threadError({
      name: "MisconfigurationError",
      message: "MESSAGE_TOO_LARGE",
      kind: "MESSAGE_TOO_LARGE",
      sends: 3,
      exitCode: 2,
    });
    expect(err).toBeInstanceOf(MisconfigurationError);
    expect((err as MisconfigurationError).exitCode).toBe(2);
    expect((err as MisconfigurationError).sends).toBe(3);
    const other = threadError({ name: "KafkaJSError", message: "broker gone" });
    expect([other.name, other.message]).toEqual(["KafkaJSError", "broker gone"]);
  });
});
