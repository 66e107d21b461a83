import { describe, expect, it } from "vitest";
import { CommittedLog, markerOf, type RawRecord } from "./committed.js";

/** A log written from a compact script: "A" a record of transactional producer A, "a+" / "a-" its commit / abort, "n" a plain record. */
function log(script: string): RawRecord[] {
  return script.split(" ").map((step, offset) => {
    if (step === "n") return { offset, producerId: "9", transactional: false };
    const producerId = step[0]!.toUpperCase();
    if (step.endsWith("+")) return { offset, producerId, transactional: true, marker: "commit" };
    if (step.endsWith("-")) return { offset, producerId, transactional: true, marker: "abort" };
    return { offset, producerId, transactional: true };
  });
}

function committed(records: RawRecord[], end = Infinity): number[] {
  const c = new CommittedLog();
  for (const r of records) c.add(r);
  return c.committedBelow(end);
}

describe("CommittedLog", () => {
  it("keeps a producer's committed records and drops its aborted ones, interleaved with others", () => {
    //            0 1 2 3  4  5 6  7  8 9 10
    const records = log("A B A n a+ B A b- A n a+");
    expect(committed(records)).toEqual([0, 2, 3, 6, 8, 9]);
  });

  it("aborts between commits of one producer", () => {
    //                  0 1 2  3 4  5 6  7
    expect(committed(log("A A a+ A a- A A a+"))).toEqual([0, 1, 5, 6]);
  });

  it("leaves a transaction without its marker out (still open)", () => {
    //                  0 1  2 3 4
    expect(committed(log("A a+ B A n"))).toEqual([0, 4]);
  });

  it("counts a batch cut across fetches once: a refetch from inside a batch repeats its start", () => {
    const records = log("A A A a+ n");
    const fetches = [records.slice(0, 2), records.slice(0, 4), records.slice(2)];
    expect(committed(fetches.flat())).toEqual([0, 1, 2, 4]);
  });

  it("applies a marker that arrives in the last fetch", () => {
    const records = log("A B A B b- a+");
    const c = new CommittedLog();
    for (const r of records.slice(0, 4)) c.add(r);
    expect(c.committedBelow(Infinity)).toEqual([]);
    for (const r of records.slice(4)) c.add(r);
    expect(c.committedBelow(Infinity)).toEqual([0, 2]);
  });

  it("returns only records below the end offset, and every data record uncommitted", () => {
    const c = new CommittedLog();
    for (const r of log("A n B a+ b- n")) c.add(r);
    expect(c.committedBelow(2)).toEqual([0, 1]);
    expect(c.everyBelow(6)).toEqual([0, 1, 2, 5]);
    expect(c.nextOffset()).toBe(6);
  });
});

describe("markerOf", () => {
  it("reads the control record key's type", () => {
    const key = (type: number) => Buffer.from([0, 0, 0, type]);
    expect(markerOf(key(1))).toBe("commit");
    expect(markerOf(key(0))).toBe("abort");
    expect(markerOf(key(5))).toBeUndefined();
    expect(markerOf(null)).toBeUndefined();
  });
});

describe("everyOffset", () => {
  it("holds only for a read without a gap from the log's start to the end", async () => {
    const { everyOffset } = await import("./cross-check.js");
    expect(everyOffset([0, 1, 2], 0, 3)).toBe(true);
    expect(everyOffset([], 5, 5)).toBe(true);
    expect(everyOffset([0, 2, 3], 0, 4)).toBe(false); // a marker (or a skipped record) at 1
    expect(everyOffset([1, 2, 3], 0, 4)).toBe(false);
    expect(everyOffset([0, 1, 2, 3], 0, 3)).toBe(false);
  });
});
