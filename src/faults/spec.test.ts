import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import {
  durationMs,
  FaultSpecError,
  formatDuration,
  formatFault,
  parseDuration,
  parseFault,
  toFault,
} from "./spec.js";

describe("parseFault defaults", () => {
  it("drop-acks targets the leader, 3s, once, every 6s", () => {
    expect(parseFault("drop-acks")).toStrictEqual({
      type: "drop-acks",
      target: "leader",
      duration: 3000,
      repeat: 1,
      every: 6000,
      params: {},
    });
  });

  it("other faults target all brokers", () => {
    expect(parseFault("cut-connection").target).toBe("all");
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
    expect(parseFault(" reset-peer: target = broker-2 , timeout=100 ").target).toBe("broker-2");
  });
});

describe("durations", () => {
  it("accepts ms, s, m and bare numbers", () => {
    expect(durationMs("250ms")).toBe(250);
    expect(durationMs("3s")).toBe(3000);
    expect(durationMs("1.5s")).toBe(1500);
    expect(durationMs("2m")).toBe(120_000);
    expect(durationMs("40")).toBe(40);
    expect(durationMs(40)).toBe(40);
    expect(durationMs("3h")).toBeUndefined();
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
      '--duration: expected a duration such as 500ms, 3s or 1m, got "soon"',
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
  ];

  it.each(specs)("%s is canonical and round-trips", (spec) => {
    const fault = parseFault(spec);
    expect(formatFault(fault)).toBe(spec);
    expect(parseFault(formatFault(fault))).toStrictEqual(fault);
  });

  it("canonicalises units, order and defaults", () => {
    const fault = parseFault("drop-acks:for=3000,repeat=1,target=leader,at=120s,every=6s");
    expect(formatFault(fault)).toBe("drop-acks:at=2m");
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
    ["latency:rate=8", "rate", "allowed: target, at, for, repeat, every, latency, jitter"],
    ["drop-acks:for", "for", "expected key=value"],
    ["drop-acks:", "", "expected key=value"],
    ["drop-acks:for=soon", "for", 'expected a duration such as 500ms, 3s or 1m, got "soon"'],
    ["drop-acks:for=0", "for", "must be at least 1ms"],
    ["drop-acks:at=later", "at", "expected a time such as 2s or a count such as 5000msg"],
    ["drop-acks:target=follower", "target", "expected all, leader or broker-<nodeId>"],
    ["drop-acks:repeat=0", "repeat", 'expected a whole number >= 1, got "0"'],
    ["drop-acks:repeat=1.5", "repeat", "expected a whole number >= 1"],
    ["drop-acks:for=3s,every=1s", "every", "must be at least for (3s)"],
    ["drop-acks:for=1s,for=2s", "for", "given twice"],
    ["bandwidth:rate=fast", "rate", "expected a whole number >= 1"],
    ["latency:jitter=x", "jitter", "expected a duration"],
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
      'fault "latency:foo=1": foo: unknown key for latency; allowed: target, at, for, repeat, every, latency, jitter',
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
