/**
 * Leases on the local stack's shared parts, as files in its state directory naming the process
 * that holds them. Several runs at once on one stack ask for a lease before they change what
 * they all share (a broker, a stack proxy); `cleanup` undoes what a holder that died left.
 */
import fs from "node:fs";
import path from "node:path";
import { STATE_DIR } from "./paths.js";
import { isAlive } from "./process.js";

const LEASES_DIR = path.join(STATE_DIR, "leases");
const fileOf = (name: string) => path.join(LEASES_DIR, `${name}.json`);

export interface Lease {
  pid: number;
  since: number;
  /** what holds it, for messages: a run id */
  holder?: string;
}

/** The lease's holder while that process lives; undefined when free or its holder died. */
export function liveHolder(name: string): Lease | undefined {
  try {
    const lease = JSON.parse(fs.readFileSync(fileOf(name), "utf8")) as Lease;
    return isAlive(lease.pid) ? lease : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lease for this process, unless another live process holds it: then returns that
 * holder and takes nothing. Atomic between processes: the file is created only if absent, and a
 * dead holder's file is first moved aside (only one of several takers can move it).
 */
export function takeLease(name: string, holder?: string): Lease | undefined {
  fs.mkdirSync(LEASES_DIR, { recursive: true });
  const lease: Lease = { pid: process.pid, since: Date.now(), ...(holder ? { holder } : {}) };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      fs.writeFileSync(fileOf(name), JSON.stringify(lease), { flag: "wx" });
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const held = liveHolder(name);
    if (held?.pid === process.pid) {
      fs.writeFileSync(fileOf(name), JSON.stringify(lease));
      return undefined;
    }
    if (held) return held;
    moveAsideIfDead(name);
  }
  return liveHolder(name) ?? { pid: -1, since: Date.now(), holder: "a process starting" };
}

/** Removes the lease's file if its holder is dead; one moved aside by mistake goes back. */
function moveAsideIfDead(name: string): void {
  const aside = `${fileOf(name)}.${process.pid}.stale`;
  try {
    fs.renameSync(fileOf(name), aside);
  } catch {
    return; // another process moved it first
  }
  try {
    const moved = JSON.parse(fs.readFileSync(aside, "utf8")) as Lease;
    if (isAlive(moved.pid)) fs.linkSync(aside, fileOf(name)); // a live one, taken meanwhile
  } catch {
    // unreadable, or a new lease is already in place: either way the moved file is done with
  }
  fs.rmSync(aside, { force: true });
}

export function releaseLease(name: string): void {
  fs.rmSync(fileOf(name), { force: true });
}
