import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import {
  durationMs,
  FaultSpecError,
  formatDuration,
  formatFault,
  isCrashFault,
  isNetworkFault,
  parseDuration,
  parseFault,
  toFault,
} from "./spec.js";

describe("parseFault defaults", () => {
  it("drop-acks targets the leader, 3s, once, every 6s", () => {
    expect(parseFault("drop-acks")).toStrictEqual({
      type: "drop-acks",
      target: "leader",
      role: "producer",
      duration: 3000,
      repeat: 1,
      every: 6000,
      params: {},
    });
  });

  it("other faults target all brokers", () => {
    expect(parseFault("cut-connection")).toMatchObject({ target: "all", role: "producer" });
  });

  it("fills each type's params", () => {
    expect(parseFault("latency").params).toEqual({ latency: 500, jitter: 100 });
    expect(parseFault("bandwidth").params).toEqual({ rate: 16 });
    expect(parseFault("reset-peer").params).toEqual({ timeout: 0 });
    expect(parseFault("slow-close").params).toEqual({ delay: 1000 });
    expect(parseFault("cut-connection").params).toEqual({});
  });

  it("every defaults to twice the duration", () => {
    expect(parseFault("latency:for=2s").every).toBe(4000);
  });
});

describe("parseFault values", () => {
  it("reads every common key", () => {
    expect(parseFault("drop-acks:target=leader,at=2s,for=3s,repeat=2,every=6s")).toEqual({
      type: "drop-acks",
      target: "leader",
      role: "producer",
      at: { ms: 2000 },
      duration: 3000,
      repeat: 2,
      every: 6000,
      params: {},
    });
  });

  it("reads a message-count start", () => {
    const fault = parseFault("cut-connection:at=5000msg,for=2s");
    expect(fault.at).toEqual({ messages: 5000 });
    expect(fault.duration).toBe(2000);
  });

  it("reads params", () => {
    expect(parseFault("latency:latency=200ms,jitter=50ms").params).toEqual({
      latency: 200,
      jitter: 50,
    });
    expect(parseFault("bandwidth:rate=8").params).toEqual({ rate: 8 });
    expect(parseFault("slow-close:delay=2s").params).toEqual({ delay: 2000 });
  });

  it("reads broker targets and spaces around keys", () => {
    expect(parseFault(" reset-peer: target = broker-2 , timeout=100 ")).toMatchObject({
      target: "broker-2",
    });
  });

  it("reads role and the coordinator target", () => {
    expect(parseFault("drop-acks:role=processor,target=coordinator")).toMatchObject({
      target: "coordinator",
      role: "processor",
    });
    expect(parseFault("latency:role=all")).toMatchObject({ target: "all", role: "all" });
  });
});

describe("durations", () => {
  it("accepts ms, s, m, h and bare numbers", () => {
    expect(durationMs("250ms")).toBe(250);
    expect(durationMs("3s")).toBe(3000);
    expect(durationMs("1.5s")).toBe(1500);
    expect(durationMs("2m")).toBe(120_000);
    expect(durationMs("1h")).toBe(3_600_000);
    expect(durationMs("40")).toBe(40);
    expect(durationMs(40)).toBe(40);
    expect(durationMs("3d")).toBeUndefined();
    expect(durationMs("-1s")).toBeUndefined();
  });

  it("formats the shortest exact unit", () => {
    expect(formatDuration(120_000)).toBe("2m");
    expect(formatDuration(3000)).toBe("3s");
    expect(formatDuration(1500)).toBe("1500ms");
    expect(formatDuration(0)).toBe("0ms");
  });

  it("parseDuration throws a UsageError naming the flag", () => {
    expect(parseDuration("30s", "--duration")).toBe(30_000);
    expect(() => parseDuration("soon", "--duration")).toThrow(
      '--duration: expected a duration such as 500ms, 3s, 1m or 1h, got "soon"',
    );
  });
});

describe("formatFault", () => {
  const specs = [
    "drop-acks",
    "cut-connection",
    "drop-acks:target=broker-3,at=2s,for=1500ms,repeat=3,every=5s",
    "cut-connection:at=5000msg,for=2s",
    "latency:latency=200ms,jitter=50ms",
    "bandwidth:rate=8",
    "reset-peer:timeout=100ms",
    "slow-close:target=leader,for=1m,delay=2s",
    "drop-acks:target=all,at=0ms,repeat=2",
    "drop-acks:role=processor",
    "cut-connection:target=coordinator,role=all,for=2s",
    "latency:target=leader,role=processor,latency=50ms",
    "crash-consumer",
    "crash-consumer:at=5000msg,repeat=2",
    "crash-consumer:at=20s,worker=2,restart=5s",
    "crash-consumer:at=1m,every=15s,worker=1",
    "crash-consumer:point=after-commit-before-process,after=3000",
    "crash-consumer:repeat=2,point=after-process-before-commit,after=1500,worker=1,restart=0ms",
    "crash-consumer:point=mid-transaction",
    "crash-producer",
    "crash-producer:at=4000msg,for=10s,worker=1",
    "crash-producer:repeat=3,every=20s",
  ];

  it.each(specs)("%s is canonical and round-trips", (spec) => {
    const fault = parseFault(spec);
    expect(formatFault(fault)).toBe(spec);
    expect(parseFault(formatFault(fault))).toStrictEqual(fault);
  });

  it("canonicalises units, order and defaults", () => {
    const fault = parseFault("drop-acks:for=3000,repeat=1,target=leader,at=120s,every=6s");
    expect(formatFault(fault)).toBe("drop-acks:at=2m");
    expect(formatFault(parseFault("cut-connection:role=producer,target=all"))).toBe(
      "cut-connection",
    );
  });

  it("canonicalises crash params", () => {
    const fault = parseFault(
      "crash-consumer:worker=0,after=3000msg,restart=2000,point=after-process-before-commit,every=10s",
    );
    expect(formatFault(fault)).toBe(
      "crash-consumer:point=after-process-before-commit,after=3000,restart=2s",
    );
    expect(formatFault(parseFault("crash-consumer:point=random,worker=0"))).toBe("crash-consumer");
    expect(formatFault(parseFault("crash-producer:for=3s,every=6s,worker=0"))).toBe(
      "crash-producer",
    );
  });
});

describe("crash faults", () => {
  it("crash-consumer defaults: random point, worker 0, an instant, 10s between repeats", () => {
    expect(parseFault("crash-consumer")).toStrictEqual({
      type: "crash-consumer",
      duration: 0,
      repeat: 1,
      every: 10_000,
      params: { point: "random", worker: 0 },
    });
  });

  it("crash-consumer reads point, after (a count), worker and restart", () => {
    const fault = parseFault(
      "crash-consumer:point=after-commit-before-process,after=3000msg,worker=2,restart=5s,repeat=2",
    );
    expect(fault).toStrictEqual({
      type: "crash-consumer",
      duration: 0,
      repeat: 2,
      every: 10_000,
      params: { point: "after-commit-before-process", after: 3000, worker: 2, restart: 5000 },
    });
    expect(parseFault("crash-consumer:point=mid-transaction,after=3000").params).toMatchObject({
      after: 3000,
    });
  });

  it("crash-producer: worker 0, frozen for 3s, no target or role", () => {
    expect(parseFault("crash-producer")).toStrictEqual({
      type: "crash-producer",
      duration: 3000,
      repeat: 1,
      every: 6000,
      params: { worker: 0 },
    });
    expect(parseFault("crash-producer:for=10s,worker=1")).toMatchObject({
      duration: 10_000,
      every: 20_000,
      params: { worker: 1 },
    });
  });

  it("tells network and crash faults apart", () => {
    expect(isNetworkFault(parseFault("drop-acks"))).toBe(true);
    expect(isCrashFault(parseFault("drop-acks"))).toBe(false);
    for (const spec of ["crash-consumer", "crash-producer"]) {
      expect(isCrashFault(parseFault(spec))).toBe(true);
      expect(isNetworkFault(parseFault(spec))).toBe(false);
    }
  });

  it("profile objects take the same keys", () => {
    expect(
      toFault({
        type: "crash-consumer",
        point: "after-process-before-commit",
        after: 1500,
        worker: 1,
        restart: "2s",
      }),
    ).toEqual(
      parseFault("crash-consumer:point=after-process-before-commit,after=1500,worker=1,restart=2s"),
    );
    expect(toFault({ type: "crash-producer", for: "5s", worker: 1 })).toEqual(
      parseFault("crash-producer:for=5s,worker=1"),
    );
    expect(toFault({ type: "drop-acks", role: "processor", target: "coordinator" })).toEqual(
      parseFault("drop-acks:role=processor,target=coordinator"),
    );
  });
});

describe("toFault (profile form)", () => {
  it("reads an object", () => {
    const fault = toFault({ type: "latency", at: "5000msg", for: "3s", latency: 200, repeat: 2 });
    expect(fault).toEqual(parseFault("latency:at=5000msg,for=3s,latency=200ms,repeat=2"));
  });

  it("reads a string", () => {
    expect(toFault("bandwidth:rate=8")).toEqual(parseFault("bandwidth:rate=8"));
  });

  it("rejects other values", () => {
    expect(() => toFault(3)).toThrow(FaultSpecError);
    expect(() => toFault(["drop-acks"])).toThrow(FaultSpecError);
  });

  it("names the key of an object", () => {
    const error = catchError(() => toFault({ type: "latency", for: "soon" }));
    expect(error).toMatchObject({ key: "for", problem: expect.stringContaining('"soon"') });
  });
});

describe("parseFault errors", () => {
  const cases: [string, string, string][] = [
    ["explode", "type", "allowed: cut-connection, drop-acks, latency"],
    ["latency:rate=8", "rate", "allowed: target, role, at, for, repeat, every, latency, jitter"],
    ["drop-acks:for", "for", "expected key=value"],
    ["drop-acks:", "", "expected key=value"],
    ["drop-acks:for=soon", "for", 'expected a duration such as 500ms, 3s, 1m or 1h, got "soon"'],
    ["drop-acks:for=0", "for", "must be at least 1ms"],
    ["drop-acks:at=later", "at", "expected a time such as 2s or a count such as 5000msg"],
    ["drop-acks:target=follower", "target", "expected all, leader, coordinator or broker-<nodeId>"],
    [
      "drop-acks:role=consumer",
      "role",
      'expected one of producer, processor, app, all, got "consumer"',
    ],
    ["drop-acks:repeat=0", "repeat", 'expected a whole number >= 1, got "0"'],
    ["drop-acks:repeat=1.5", "repeat", "expected a whole number >= 1"],
    ["drop-acks:for=3s,every=1s", "every", "must be at least for (3s)"],
    ["drop-acks:for=1s,for=2s", "for", "given twice"],
    ["bandwidth:rate=fast", "rate", "expected a whole number >= 1"],
    ["latency:jitter=x", "jitter", "expected a duration"],
    ["crash-consumer:for=2s", "for", "unknown key for crash-consumer; allowed: at, repeat, every,"],
    ["crash-consumer:target=leader", "target", "allowed: at, repeat, every, point, after"],
    ["crash-consumer:role=processor", "role", "unknown key for crash-consumer"],
    ["crash-consumer:point=later", "point", "expected one of after-commit-before-process"],
    ["crash-consumer:point=random,after=10", "after", "only for a deterministic point"],
    ["crash-consumer:after=10", "after", "place a random crash with at="],
    [
      "crash-consumer:point=mid-transaction,at=2s",
      "at",
      "a crash at point mid-transaction is placed with after=N",
    ],
    ["crash-consumer:point=mid-transaction,after=0", "after", "expected a message count"],
    ["crash-consumer:point=mid-transaction,after=many", "after", 'such as 3000msg, got "many"'],
    ["crash-consumer:worker=-1", "worker", "expected a whole number >= 0"],
    ["crash-consumer:restart=soon", "restart", "expected a duration"],
    ["crash-producer:point=random", "point", "allowed: at, for, repeat, every, worker"],
    ["crash-producer:target=all", "target", "unknown key for crash-producer"],
    ["crash-producer:worker=x", "worker", "expected a whole number >= 0"],
  ];

  it.each(cases)("%s → key %j", (spec, key, problem) => {
    const error = catchError(() => parseFault(spec));
    expect(error).toBeInstanceOf(FaultSpecError);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ key, exitCode: 2 });
    expect((error as FaultSpecError).problem).toContain(problem);
    expect((error as Error).message).toContain(`fault "${spec}": `);
  });

  it("message names the spec, the key and the problem", () => {
    expect(() => parseFault("latency:foo=1")).toThrow(
      'fault "latency:foo=1": foo: unknown key for latency; allowed: target, role, at, for, repeat, every, latency, jitter',
    );
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
