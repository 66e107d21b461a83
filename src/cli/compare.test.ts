import { describe, expect, it } from "vitest";
import type { Report } from "../report/report.js";
import { renderRepeated, type Repeated } from "./compare.js";

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** A run of `profile` at `throughput` msg/s with p50 = p99 = `ms`, passing, no hops. */
function run(throughput: number, ms: number, profile: string) {
  const report = {
    profile,
    verdict: "pass",
    hops: [],
    faults: [],
    relaxed: [],
  } as unknown as Report;
  return {
    report,
    stats: { throughput, p50Ms: ms, p99Ms: ms, maxMs: ms, windowMs: 1000 },
    transactions:
      profile === "exactly-once"
        ? {
            producer: { ms: 100, transactions: 10, messages: 600 },
            processor: { ms: 100, transactions: 20, messages: 300 },
          }
        : {},
  };
}

const group = (profile: string, xs: [number, number][]): Repeated => ({
  profile,
  runs: xs.map(([t, ms]) => run(t, ms, profile)),
});

describe("compare --repeats table", () => {
  const text = renderRepeated(
    [
      group("at-most-once", [
        [35_000, 3],
        [36_000, 3],
        [34_000, 4],
      ]),
      group("at-least-once", [
        [26_000, 4],
        [34_500, 4],
        [25_000, 5],
      ]),
      group("exactly-once", [
        [12_000, 40],
        [11_000, 42],
        [12_500, 41],
      ]),
    ],
    7,
  ).replace(ANSI, "");

  it("median and range per profile, ≈ where the difference is within the spread", () => {
    // at-least-once 26,000 vs 35,000: spread 9,500 (25,000–34,500) > 9,000 → ≈
    expect(text).toContain("≈ 26,000 (25,000–34,500)");
    // exactly-once 12,000 vs 26,000: spreads 1,500 and 9,500 < 14,000 → a real difference
    expect(text).toContain("│ 12,000 (11,000–12,500)");
    expect(text).toContain("35,000 (34,000–36,000)");
  });

  it("shows the transaction size, the order held and the cost relative to the row above", () => {
    expect(text).toContain("producer 100 ms ≈ 600 msgs, processor 100 ms ≈ 300 msgs");
    expect(text).toContain("3 repeats each, interleaved");
    // repeat 2: at-least-once 34,500 ≤ 36,000, exactly-once below: every repeat holds
    expect(text).toContain(
      "msg/s at-most-once ≥ at-least-once ≥ exactly-once: held in 3 of 3 repeats",
    );
    expect(text).toContain("at-least-once 0.74× at-most-once, exactly-once 0.46× at-least-once");
    expect(text).toContain("pass 3/3");
  });
});
