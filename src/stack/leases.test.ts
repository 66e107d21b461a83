import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { liveHolder, releaseLease, takeLease } from "./leases.js";
import { STATE_DIR } from "./paths.js";

const name = `test-lease-${process.pid}-${Date.now()}`;
afterEach(() => releaseLease(name));

/** The lease as another process would have written it. */
function heldBy(pid: number): void {
  fs.mkdirSync(path.join(STATE_DIR, "leases"), { recursive: true });
  fs.writeFileSync(
    path.join(STATE_DIR, "leases", `${name}.json`),
    JSON.stringify({ pid, since: 0, holder: "other" }),
  );
}

describe("leases", () => {
  it("a free lease is taken; this process may take it again; released it is free", () => {
    expect(liveHolder(name)).toBeUndefined();
    expect(takeLease(name, "run-a")).toBeUndefined();
    expect(liveHolder(name)).toMatchObject({ pid: process.pid, holder: "run-a" });
    expect(takeLease(name, "run-a")).toBeUndefined();
    releaseLease(name);
    expect(liveHolder(name)).toBeUndefined();
  });

  it("another live process keeps it; one that died does not", () => {
    heldBy(process.ppid);
    expect(takeLease(name, "run-b")).toMatchObject({ pid: process.ppid, holder: "other" });
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    heldBy(dead);
    expect(liveHolder(name)).toBeUndefined();
    expect(takeLease(name, "run-b")).toBeUndefined();
    expect(liveHolder(name)).toMatchObject({ pid: process.pid, holder: "run-b" });
  });
});
