/**
 * Figures of a profile run several times (compare --repeats): the median and range of each, and
 * whether two profiles differ by more than their runs vary.
 */

/** The median and range of one figure over a profile's repeats. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of no values");
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function spreadOf(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * "≈": the medians of a and b differ by less than the spread (max − min) of either, i.e. the
 * difference is within what repeating the same profile already shows. A single run has no
 * spread: then only equal medians are ≈.
 */
export function withinSpread(a: Spread, b: Spread): boolean {
  const spread = Math.max(a.max - a.min, b.max - b.min);
  const diff = Math.abs(a.median - b.median);
  return diff === 0 || diff < spread;
}

/**
 * In how many repeats the values are in non-increasing order down the list:
 * `byProfile[p][r]` is profile p's value in repeat r (every profile has the same repeats).
 */
export function orderHeld(byProfile: readonly (readonly number[])[]): number {
  const repeats = Math.min(...byProfile.map((xs) => xs.length));
  let held = 0;
  for (let r = 0; r < repeats; r += 1) {
    let ok = true;
    for (let p = 1; p < byProfile.length; p += 1) {
      if (byProfile[p]![r]! > byProfile[p - 1]![r]!) ok = false;
    }
    if (ok) held += 1;
  }
  return held;
}
