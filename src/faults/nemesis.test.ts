import { describe, expect, it } from "vitest";
import type { Ports } from "./kind.js";
import { Nemesis } from "./nemesis.js";
import type { BrokerControl, ClientRole, ProxyPort, TargetLookup, WorkerControl } from "./ports.js";
import { planSchedule } from "./schedule.js";
import { parseFault } from "./spec.js";

/** Fake ports that write down every call, in order. */
function fakes(opts: { leaders?: number[]; partitionLeader?: number; failOn?: string } = {}) {
  const calls: string[] = [];
  const note = async (call: string) => {
    calls.push(call);
    if (opts.failOn === call) throw new Error(`refused: ${call}`);
  };
  const port = (name: string): ProxyPort => ({
    name,
    setEnabled: (enabled) => note(`${name} enabled=${enabled}`),
    addToxic: (t) => note(`${name} +${t.type}/${t.stream} ${JSON.stringify(t.attributes)}`),
    removeToxic: (t) => note(`${name} -${t}`),
  });
  const roles: ClientRole[] = ["producer", "processor"];
  const brokers: BrokerControl = {
    nodes: () => [1, 2, 3],
    kill: (n) => note(`kill ${n}`),
    stop: (n) => note(`stop ${n}`),
    start: (n) => note(`start ${n}`),
    pause: (n) => note(`pause ${n}`),
    resume: (n) => note(`resume ${n}`),
    isolate: (n) => note(`isolate ${n}`),
    heal: (n) => note(`heal ${n}`),
  };
  const workers: WorkerControl = {
    kill: (slot, point) => void calls.push(`kill worker ${slot} ${point}`),
    freeze: (slot) => void calls.push(`freeze worker ${slot}`),
    thaw: (slot) => void calls.push(`thaw worker ${slot}`),
  };
  const targets: TargetLookup = {
    leaders: async () => opts.leaders ?? [1, 2],
    partitionLeader: async () => opts.partitionLeader ?? 2,
    followers: async () => [3, 1],
    coordinators: async () => [3],
    transactionCoordinator: async () => 3,
    controller: async () => 1,
  };
  const ports: Ports = {
    proxies: {
      roles: () => roles,
      brokers: () => [1, 2, 3],
      proxy: (role, node) => port(`${role}-b${node}`),
      replicationProxy: (node) => port(`replication-b${node}`),
    },
    workers,
    brokers,
    targets,
    random: () => 0.99,
  };
  return { calls, ports };
}

function nemesisFor(specs: string[], ports: Ports) {
  const events: { phase: string; fault: string; target: string; time: number }[] = [];
  let now = 0;
  let sent = 0;
  const errors: unknown[] = [];
  const nemesis = new Nemesis({
    ports,
    schedule: planSchedule(specs.map(parseFault), { seed: 1, messages: 1000 }),
    history: {
      append: (e) => void events.push(e as (typeof events)[number]),
      flush: async () => {},
    },
    clock: () => now,
    sent: () => sent,
    onError: (err) => errors.push(err),
  });
  return {
    nemesis,
    events,
    errors,
    at: async (ms: number, messages = sent) => {
      now = ms;
      sent = messages;
      await nemesis.tick();
    },
  };
}

describe("nemesis dispatch (fake ports)", () => {
  it("a network fault adds its toxic on the target's proxies, then removes it", async () => {
    const { calls, ports } = fakes({ leaders: [2] });
    const n = nemesisFor(["drop-acks:at=1s,for=2s"], ports);
    await n.at(999);
    expect(calls).toEqual([]);
    await n.at(1000);
    expect(calls).toEqual(['producer-b2 +timeout/downstream {"timeout":0}']);
    expect(n.nemesis.active()).toEqual(["drop-acks#1"]);
    expect(n.nemesis.activeOnProxies()).toEqual([
      { label: "drop-acks#1", toxic: "kc-drop-acks-1", proxies: ["producer-b2"] },
    ]);
    await n.at(3000);
    expect(calls.at(-1)).toBe("producer-b2 -kc-drop-acks-1");
    expect(n.events).toEqual([
      {
        type: "fault",
        phase: "start",
        fault: "drop-acks#1",
        target: "leader (broker-2)",
        time: 1000,
      },
      {
        type: "fault",
        phase: "stop",
        fault: "drop-acks#1",
        target: "leader (broker-2)",
        time: 3000,
      },
    ]);
    expect(n.nemesis.active()).toEqual([]);
  });

  it("cut-connection on every role disables and re-enables every proxy", async () => {
    const { calls, ports } = fakes();
    const n = nemesisFor(["cut-connection:role=all,target=broker-3,at=0ms,for=1s"], ports);
    await n.at(0);
    await n.at(1000);
    expect(calls).toEqual([
      "producer-b3 enabled=false",
      "processor-b3 enabled=false",
      "producer-b3 enabled=true",
      "processor-b3 enabled=true",
    ]);
    expect(n.events[0]?.target).toBe("broker-3 (broker-3) of all");
  });

  it("latency passes its params as the toxic's attributes", async () => {
    const { calls, ports } = fakes();
    const n = nemesisFor(["latency:target=broker-1,at=0ms,latency=200ms,jitter=0ms"], ports);
    await n.at(0);
    expect(calls).toEqual(['producer-b1 +latency/downstream {"latency":200,"jitter":0}']);
  });

  it("crash-producer freezes a worker and thaws it after for; crash-consumer kills it", async () => {
    const { calls, ports } = fakes();
    const n = nemesisFor(
      ["crash-producer:at=0ms,for=5s,worker=1", "crash-consumer:at=2s,worker=0"],
      ports,
    );
    await n.at(0);
    await n.at(2000);
    await n.at(5000);
    expect(calls).toEqual(["freeze worker 1", "kill worker 0 random", "thaw worker 1"]);
    expect(n.events.map((e) => `${e.phase} ${e.fault} ${e.target}`)).toEqual([
      "start crash-producer#1 worker 1",
      "start crash-consumer#2 worker 0",
      "stop crash-consumer#2 worker 0",
      "stop crash-producer#1 worker 1",
    ]);
  });

  it("a slow heal holds up no other fault", async () => {
    const { calls, ports } = fakes({ partitionLeader: 3 });
    let finish = () => {};
    const brokers = ports.brokers;
    if (!brokers) throw new Error("no brokers");
    brokers.start = (n) =>
      new Promise<void>((resolve) => {
        calls.push(`start ${n} (slow)`);
        finish = resolve;
      });
    const n = nemesisFor(
      ["kill-broker:at=0ms,for=1s", "pause-broker:target=broker-1,at=2s"],
      ports,
    );
    await n.at(0);
    const healing = n.at(1000);
    await n.at(2000);
    expect(calls).toEqual(["kill 3", "start 3 (slow)", "pause 1"]);
    expect(n.nemesis.active()).toEqual(["kill-broker#1", "pause-broker#2"]);
    finish();
    await healing;
    expect(n.nemesis.active()).toEqual(["pause-broker#2"]);
  });

  it("a broker fault resolves its target when it starts and heals the same broker", async () => {
    const { calls, ports } = fakes({ partitionLeader: 3 });
    const n = nemesisFor(
      ["kill-broker:at=0ms,for=10s", "pause-broker:target=follower,at=1s,for=1s"],
      ports,
    );
    await n.at(0);
    await n.at(1000);
    await n.at(2000);
    await n.at(10_000);
    expect(calls).toEqual(["kill 3", "pause 3", "resume 3", "start 3"]);
    expect(n.events[0]?.target).toBe("broker-3 (leader)");
  });

  it("isolate, stop, and targets controller, coordinator, random, broker-N", async () => {
    const { calls, ports } = fakes();
    const n = nemesisFor(
      [
        "isolate-broker:target=controller,at=0ms,for=1s",
        "stop-broker:target=coordinator,at=0ms,for=1s",
        "kill-broker:target=random,at=0ms,for=1s",
        "pause-broker:target=broker-2,at=0ms,for=1s",
      ],
      ports,
    );
    await n.at(0);
    // Faults move each on its own: started together, in no set order.
    expect([...calls].sort()).toEqual(["isolate 1", "kill 3", "pause 2", "stop 3"]);
    await n.nemesis.heal();
    expect(calls.slice(4)).toEqual(["heal 1", "start 3", "start 3", "resume 2"]);
  });

  it("slow-replication adds latency on the broker's replication proxy", async () => {
    const { calls, ports } = fakes({ partitionLeader: 1 });
    const n = nemesisFor(["slow-replication:at=0ms,latency=700ms"], ports);
    await n.at(0);
    await n.nemesis.heal();
    expect(calls).toEqual([
      'replication-b1 +latency/downstream {"latency":700,"jitter":0}',
      "replication-b1 -kc-slow-replication-1",
    ]);
  });

  it("a start counted in messages waits for the sent count", async () => {
    const { calls, ports } = fakes();
    const n = nemesisFor(["pause-broker:target=broker-1,at=500msg,for=1s"], ports);
    await n.at(5000, 499);
    expect(calls).toEqual([]);
    await n.at(6000, 500);
    await n.at(6999, 600);
    expect(calls).toEqual(["pause 1"]);
    await n.at(7000, 700);
    expect(calls).toEqual(["pause 1", "resume 1"]);
  });

  it("a fault whose start failed stays active, so the final heal still undoes it", async () => {
    const { calls, ports } = fakes({ failOn: "producer-b2 enabled=false" });
    const n = nemesisFor(["cut-connection:at=0ms,for=1m"], ports);
    await expect(n.at(0)).rejects.toThrow("refused");
    expect(n.nemesis.active()).toEqual(["cut-connection#1"]);
    await n.nemesis.heal();
    expect(calls).toEqual([
      "producer-b1 enabled=false",
      "producer-b2 enabled=false",
      "producer-b1 enabled=true",
      "producer-b2 enabled=true",
      "producer-b3 enabled=true",
    ]);
    expect(n.nemesis.active()).toEqual([]);
  });

  it("faults the run ended before are reported as never started", async () => {
    const { ports } = fakes();
    const n = nemesisFor(["kill-broker:at=1m"], ports);
    await n.at(0);
    await n.nemesis.heal();
    expect(n.nemesis.neverStarted()).toEqual(["kill-broker#1"]);
  });
});
