import { describe, expect, it } from "vitest";
import { FAULT_TYPES, formatFault, isBrokerFault, parseFault } from "../spec.js";
import { faultProblem } from "../../profiles/schema.js";
import type { Ports } from "../kind.js";
import { resolveBroker } from "./broker.js";

describe("broker fault specs", () => {
  it("default: the leader of input partition 0, 10 s, once", () => {
    expect(parseFault("kill-broker")).toStrictEqual({
      type: "kill-broker",
      target: "leader",
      duration: 10_000,
      repeat: 1,
      every: 20_000,
      params: {},
    });
    expect(isBrokerFault(parseFault("pause-broker"))).toBe(true);
    expect(isBrokerFault(parseFault("drop-acks"))).toBe(false);
  });

  it("reads every target", () => {
    for (const target of [
      "leader",
      "follower",
      "controller",
      "coordinator",
      "random",
      "broker-3",
    ]) {
      expect(parseFault(`stop-broker:target=${target}`)).toMatchObject({ target });
    }
    expect(() => parseFault("kill-broker:target=all")).toThrow(
      'fault "kill-broker:target=all": target: expected leader, follower, controller, coordinator, random or broker-<nodeId>, got "all"',
    );
    expect(() => parseFault("kill-broker:role=producer")).toThrow(
      "role: unknown key for kill-broker; allowed: target, at, for, repeat, every",
    );
  });

  it("slow-replication takes latency and jitter", () => {
    expect(parseFault("slow-replication:latency=1s").params).toEqual({ latency: 1000, jitter: 0 });
  });

  it("round-trips through formatFault", () => {
    for (const spec of [
      "kill-broker",
      "kill-broker:target=follower,at=5s,for=20s",
      "pause-broker:target=coordinator,at=3000msg",
      "isolate-broker:repeat=2,every=30s",
      "stop-broker:target=broker-2,for=1m",
      "slow-replication:at=2s,for=30s,latency=800ms",
    ]) {
      expect(formatFault(parseFault(spec))).toBe(spec);
    }
  });

  it("every type is listed", () => {
    expect(FAULT_TYPES).toEqual(
      expect.arrayContaining(["kill-broker", "stop-broker", "pause-broker", "isolate-broker"]),
    );
  });

  it("target coordinator needs a processor", () => {
    const processor = { enabled: false, workers: 1, commit: "after" } as never;
    expect(faultProblem(parseFault("kill-broker:target=coordinator"), processor)).toMatchObject({
      key: "target",
    });
    expect(faultProblem(parseFault("kill-broker"), processor)).toBeUndefined();
  });
});

describe("target random", () => {
  it("picks a broker no active broker fault holds", async () => {
    const ports = {
      brokers: { nodes: () => [1, 2, 3] },
      targets: {},
      heldBrokers: () => [1, 3],
    } as unknown as Ports;
    for (const draw of [0, 0.5, 0.99]) {
      expect(await resolveBroker("random", { ...ports, random: () => draw })).toBe(2);
    }
    // Every broker held: any of them (the fault then fails as it would by name).
    const all = { ...ports, heldBrokers: () => [1, 2, 3], random: () => 0.99 };
    expect(await resolveBroker("random", all)).toBe(3);
  });
});
