import { describe, expect, it } from "vitest";
import { isLive, leaseOf, LEASE_STALE_MS } from "./run-lease.js";

describe("a run's lease", () => {
  it("is read from a lease proxy's upstream, and from nothing else", () => {
    expect(leaseOf('{"host":"ci-7","pid":42,"beat":1000}')).toEqual({
      host: "ci-7",
      pid: 42,
      beat: 1000,
    });
    expect(leaseOf("127.0.0.1:9092")).toBeUndefined();
    expect(leaseOf('{"host":"ci-7"}')).toBeUndefined();
  });

  it("on this host: alive while its process is", () => {
    const lease = { host: "here", pid: 42, beat: 0 };
    expect(isLive(lease, 10 * LEASE_STALE_MS, "here", () => true)).toBe(true);
    expect(isLive(lease, 0, "here", () => false)).toBe(false);
  });

  it("on another host: alive while it renews within the stale time", () => {
    const lease = { host: "ci-7", pid: 42, beat: 1000 };
    expect(isLive(lease, 1000 + LEASE_STALE_MS - 1, "here", () => false)).toBe(true);
    expect(isLive(lease, 1000 + LEASE_STALE_MS, "here", () => true)).toBe(false);
  });
});
