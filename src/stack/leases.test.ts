import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// The leases live in the stack's state directory: a fresh one for this file.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-leases-"));
const before = process.env.KAFKA_CHAOS_STACK_DIR;
process.env.KAFKA_CHAOS_STACK_DIR = dir;
const { liveHolder, releaseLease, takeLease } = await import("./leases.js");
if (before === undefined) delete process.env.KAFKA_CHAOS_STACK_DIR;
else process.env.KAFKA_CHAOS_STACK_DIR = before;
const file = (name: string) => path.join(dir, "leases", `${name}.json`);
const NO_SUCH_PID = 2 ** 22 + 4321; // above the kernel's pid range

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("leases on the local stack's shared parts", () => {
  it("a free lease is taken; taking it again from the same process keeps it", () => {
    expect(takeLease("a", "run-1")).toBeUndefined();
    expect(liveHolder("a")).toMatchObject({ pid: process.pid, holder: "run-1" });
    expect(takeLease("a", "run-1")).toBeUndefined();
    releaseLease("a");
    expect(liveHolder("a")).toBeUndefined();
  });

  it("a live holder keeps it: the taker gets the holder and takes nothing", () => {
    fs.mkdirSync(path.dirname(file("b")), { recursive: true });
    const held = { pid: process.ppid, since: 1, holder: "run-0" };
    fs.writeFileSync(file("b"), JSON.stringify(held));
    expect(takeLease("b", "run-1")).toEqual(held);
    expect(JSON.parse(fs.readFileSync(file("b"), "utf8"))).toEqual(held);
  });

  it("a dead holder's lease is taken over", () => {
    fs.writeFileSync(file("c"), JSON.stringify({ pid: NO_SUCH_PID, since: 1, holder: "gone" }));
    expect(takeLease("c", "run-2")).toBeUndefined();
    expect(liveHolder("c")).toMatchObject({ pid: process.pid, holder: "run-2" });
    expect(fs.readdirSync(path.dirname(file("c"))).filter((f) => f.endsWith(".stale"))).toEqual([]);
  });
});
