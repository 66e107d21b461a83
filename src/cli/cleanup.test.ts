import { describe, expect, it } from "vitest";
import { leasesIn, leftFromBefore, leftovers } from "./cleanup.js";

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

describe("cleanup by the runs' leases in Toxiproxy", () => {
  const now = Date.UTC(2026, 10, 23, 15, 0, 0);
  const byAge = leftFromBefore(now - 15 * 60_000);
  const live = { host: "here", pid: 1, beat: now };
  const dead = { host: "here", pid: 2, beat: now };
  const leases = new Map([
    ["kc-20261123-100000-live-", live], // hours old, still running
    ["kc-20261123-145900-dead-", dead], // a minute old, killed
  ]);
  const { toxiproxy, cluster } = leftovers(byAge, leases, now, (l) => l.pid === 1);

  it("never takes a live run's names, however old", () => {
    expect(toxiproxy.test("kc-20261123-100000-live-producer-b1")).toBe(false);
    expect(cluster.test("kc-20261123-100000-live-input")).toBe(false);
  });

  it("takes a dead run's proxies and toxics at once, its topics by age", () => {
    expect(toxiproxy.test("kc-20261123-145900-dead-producer-b1")).toBe(true);
    expect(toxiproxy.test("kc-20261123-145900-dead-lease")).toBe(true);
    expect(cluster.test("kc-20261123-145900-dead-input")).toBe(false);
  });

  it("goes by age for a run without a lease", () => {
    expect(toxiproxy.test("kc-20261123-100000-none-producer-b1")).toBe(true);
    expect(toxiproxy.test("kc-20261123-145900-none-producer-b1")).toBe(false);
    expect(cluster.test("kc-20261123-100000-none-input")).toBe(true);
  });

  it("reads leases only from a run's lease proxy", () => {
    const upstream = JSON.stringify(live);
    const found = leasesIn({
      "kc-20261123-100000-live-lease": { upstream },
      "kc-20261123-100000-live-producer-b1": { upstream: "127.0.0.1:9092" },
      "orders-lease": { upstream },
      "kc-20261123-100000-oops-lease": { upstream: "127.0.0.1:9092" },
    });
    expect([...found]).toEqual([["kc-20261123-100000-live-", live]]);
  });
});
