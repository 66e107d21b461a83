import { describe, expect, it } from "vitest";
import { median, orderHeld, spreadOf, withinSpread } from "./repeats.js";

describe("median and range of repeats", () => {
  it("odd count: the middle value, whatever the order", () => {
    expect(median([35_200, 33_100, 36_900, 34_000, 35_000])).toBe(35_000);
  });

  it("even count: the mean of the two middle values", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("one value is its own median and range", () => {
    expect(spreadOf([2200])).toEqual({ median: 2200, min: 2200, max: 2200 });
  });

  it("spread: median, min and max", () => {
    expect(spreadOf([25_900, 24_000, 27_500, 26_100, 25_000])).toEqual({
      median: 25_900,
      min: 24_000,
      max: 27_500,
    });
  });

  it("no values: an error, not NaN", () => {
    expect(() => median([])).toThrow("median of no values");
  });
});

describe("≈: a difference smaller than the spread", () => {
  const s = (median: number, min: number, max: number) => ({ median, min, max });

  it("26,500 vs 25,900 with a spread of 3,500 (24,000–27,500) → ≈", () => {
    expect(withinSpread(s(26_500, 25_000, 27_000), s(25_900, 24_000, 27_500))).toBe(true);
  });

  it("35,200 vs 25,900 with spreads of 2,000 and 3,500 → different", () => {
    expect(withinSpread(s(35_200, 34_000, 36_000), s(25_900, 24_000, 27_500))).toBe(false);
  });

  it("the larger spread of the two decides: diff 900, spreads 100 and 1,000 → ≈", () => {
    expect(withinSpread(s(1000, 950, 1050), s(1900, 1850, 1950))).toBe(false);
    expect(withinSpread(s(1000, 950, 1050), s(1900, 1400, 2400))).toBe(true);
  });

  it("a difference equal to the spread is not ≈ (strictly smaller)", () => {
    expect(withinSpread(s(10, 9, 11), s(12, 11, 13))).toBe(false);
  });

  it("single runs (no spread): only equal medians are ≈", () => {
    expect(withinSpread(s(7, 7, 7), s(7, 7, 7))).toBe(true);
    expect(withinSpread(s(7, 7, 7), s(8, 8, 8))).toBe(false);
  });
});

describe("order held in how many repeats", () => {
  it("at-most-once ≥ at-least-once ≥ exactly-once: held in 4 of 5 (repeat 3 swaps the first two)", () => {
    const amo = [35_000, 36_000, 25_000, 34_000, 35_500];
    const alo = [26_000, 25_500, 26_100, 27_000, 25_000];
    const eo = [12_000, 11_000, 12_500, 11_800, 12_100];
    expect(orderHeld([amo, alo, eo])).toBe(4);
  });

  it("ties hold (non-increasing)", () => {
    expect(orderHeld([[5], [5], [5]])).toBe(1);
  });

  it("one profile: every repeat holds", () => {
    expect(orderHeld([[1, 2, 3]])).toBe(3);
  });
});
