import { describe, expect, it } from "vitest";
import { leftFromBefore } from "./cleanup.js";

describe("cleanup matching", () => {
  const cutoff = Date.UTC(2026, 10, 23, 14, 0, 0);
  const match = leftFromBefore(cutoff);

  it("takes only names of runs that started before the cutoff", () => {
    expect(match.test("kc-20261123-135959-ab12-input")).toBe(true);
    expect(match.test("kc-20261123-140000-ab12-input")).toBe(false);
    expect(match.test("kc-20261122-235959-zz99-processor-b1")).toBe(true);
  });

  it("never takes a name that is not a run's own", () => {
    expect(match.test("orders")).toBe(false);
    expect(match.test("kc-orders-input")).toBe(false);
    expect(match.test("kc-2026112-135959-ab12-input")).toBe(false);
    expect(match.test("xkc-20261123-135959-ab12-input")).toBe(false);
  });
});
