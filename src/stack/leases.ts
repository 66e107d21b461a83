/**
 * Leases on the local stack's shared parts, as files in its state directory naming the process
 * that holds them. Several runs at once on one stack ask for a lease before they change what
 * they all share (a broker, a stack proxy); `cleanup` undoes what a holder that died left.
 */
import fs from "node:fs";
import path from "node:path";
import { STATE_DIR } from "./paths.js";

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
    process.kill(lease.pid, 0);
    return lease;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lease for this process, unless another live process holds it: then returns that
 * holder and takes nothing.
 */
export function takeLease(name: string, holder?: string): Lease | undefined {
  const held = liveHolder(name);
  if (held && held.pid !== process.pid) return held;
  fs.mkdirSync(LEASES_DIR, { recursive: true });
  const lease: Lease = { pid: process.pid, since: Date.now(), ...(holder ? { holder } : {}) };
  fs.writeFileSync(fileOf(name), JSON.stringify(lease));
  return undefined;
}

export function releaseLease(name: string): void {
  fs.rmSync(fileOf(name), { force: true });
}
