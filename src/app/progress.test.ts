import { describe, expect, it } from "vitest";
import { caughtUp, describeLag } from "./progress.js";

const map = (entries: [number, number][]) => new Map(entries);

describe("the app has caught up when its group committed the input's end", () => {
  it("every partition with records must be committed to its end", () => {
    const end = map([
      [0, 100],
      [1, 50],
      [2, 0],
    ]);
    expect(
      caughtUp(
        map([
          [0, 100],
          [1, 50],
        ]),
        end,
        false,
      ),
    ).toBe(true);
    expect(
      caughtUp(
        map([
          [0, 100],
          [1, 49],
        ]),
        end,
        false,
      ),
    ).toBe(false);
    expect(caughtUp(map([[0, 100]]), end, false)).toBe(false);
    // nothing committed yet is -1 from the admin API
    expect(
      caughtUp(
        map([
          [0, -1],
          [1, 50],
        ]),
        end,
        false,
      ),
    ).toBe(false);
  });

  it("a transactional producer's last commit marker needs no offset of its own", () => {
    const end = map([[0, 101]]);
    expect(caughtUp(map([[0, 100]]), end, true)).toBe(true);
    expect(caughtUp(map([[0, 100]]), end, false)).toBe(false);
    expect(caughtUp(map([[0, 99]]), end, true)).toBe(false);
  });

  it("describes the lag per partition", () => {
    expect(
      describeLag(
        map([[1, 20]]),
        map([
          [1, 50],
          [0, 10],
        ]),
      ),
    ).toBe("p0 0/10, p1 20/50");
  });
});
