import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../history/events.js";
import type { HistoryWriter } from "../history/writer.js";
import { ackedEnds } from "./settle.js";

describe("ackedEnds", () => {
  it("keeps, per partition, one past the base offset of the last acked batch", () => {
    const seen: HistoryEvent[] = [];
    const history = { append: (e: HistoryEvent) => seen.push(e) } as unknown as HistoryWriter;
    const ends = ackedEnds(history);
    history.append({ type: "invoke", producer: 0, from: 0, to: 9, time: 1 });
    history.append({
      type: "ok",
      producer: 0,
      from: 0,
      to: 9,
      time: 2,
      offsets: { "0": "40", "2": "7" },
    });
    history.append({ type: "ok", producer: 1, from: 0, to: 9, time: 3, offsets: { "0": "12" } });
    history.append({ type: "unknown", producer: 1, from: 10, to: 19, time: 4 });
    history.append({ type: "ok", producer: 1, from: 20, to: 29, time: 5 });
    expect([...ends].sort()).toEqual([
      [0, 41],
      [2, 8],
    ]);
    expect(seen).toHaveLength(5);
  });
});
