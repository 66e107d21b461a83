import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../history/events.js";
import { chunkOffsets } from "./consumer-aborts.js";
import { Reconciler } from "./reconcile.js";
import { OffsetSet } from "./storage.js";

const run: HistoryEvent = {
  type: "run",
  runId: "r1",
  profile: "test",
  seed: 1,
  startedAt: "2024-01-01T00:00:00.000Z",
  topics: { input: "in", output: "out" },
  acks: -1,
};

/**
 * Input partition 0: 0 = 0:0 in a transaction that was aborted, 1 its ABORT marker, 2 = 0:0
 * again and 3 = 0:1 committed, 4 the COMMIT marker. The consumer hands out offset 0 as well.
 */
function judged(processedOffsets: number[], items: [number, number][]) {
  const r = new Reconciler();
  const committed = new OffsetSet();
  committed.add(0, 2);
  committed.add(0, 3);
  r.judgeConsumerAborts(committed, new Map([[0, 5]]));
  for (const e of [
    run,
    { type: "invoke", producer: 0, from: 0, to: 1, time: 0 },
    { type: "ok", producer: 0, from: 0, to: 1, time: 1 },
    {
      type: "processed",
      worker: "0.0",
      partition: 0,
      fromOffset: processedOffsets[0]!,
      toOffset: processedOffsets[processedOffsets.length - 1]!,
      items,
      offsets: processedOffsets,
      outcome: "ok",
      time: 2,
    },
  ] as HistoryEvent[]) {
    r.addEvent(e);
  }
  r.addRecord({ partition: 0, offset: 2, producer: 0, seq: 0 });
  r.addRecord({ partition: 0, offset: 3, producer: 0, seq: 1 });
  items.forEach(([producer, seq], offset) =>
    r.addOutputRecord({ partition: 0, offset, producer, seq }, "committed"),
  );
  return Object.fromEntries(r.result().hops.map((h) => [h.name, h]));
}

describe("aborted reads at broker-consumer", () => {
  it("books a processed record of an aborted transaction on the consumer, not the producer", () => {
    const hops = judged(
      [0, 2, 3],
      [
        [0, 0],
        [0, 0],
        [0, 1],
      ],
    );
    expect(hops["producer-broker"]!.duplicated).toBe(0);
    expect(hops["broker-consumer"]!.abortedReads).toBe(1);
    expect(hops["broker-consumer"]!.duplicated).toBe(0);
    expect(hops["broker-consumer"]!.examples.abortedReads).toEqual(["0:0"]);
    expect(hops["processor-output"]!.duplicated).toBe(0);
    expect(hops["end-to-end"]!.duplicated).toBe(1);
  });

  it("finds none when the consumer read only committed records", () => {
    const hops = judged(
      [2, 3],
      [
        [0, 0],
        [0, 1],
      ],
    );
    expect(hops["broker-consumer"]!.abortedReads).toBe(0);
    expect(hops["end-to-end"]!.duplicated).toBe(0);
  });

  it("takes a chunk's offsets as written, or from a range without holes", () => {
    const base = {
      type: "processed",
      worker: "0.0",
      partition: 0,
      outcome: "ok",
      time: 0,
    } as const;
    const items: [number, number][] = [
      [0, 0],
      [0, 1],
    ];
    expect(chunkOffsets({ ...base, fromOffset: 4, toOffset: 5, items })).toEqual([4, 5]);
    expect(chunkOffsets({ ...base, fromOffset: 4, toOffset: 6, items })).toBeUndefined();
    expect(chunkOffsets({ ...base, fromOffset: 4, toOffset: 6, items, offsets: [4, 6] })).toEqual([
      4, 6,
    ]);
  });
});
