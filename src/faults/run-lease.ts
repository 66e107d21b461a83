/**
 * A run's lease, visible in Toxiproxy to every other run and to `cleanup`, on any host: a
 * disabled proxy `<prefix>-lease` (it binds nothing) whose upstream field holds who runs it
 * (host, pid) and when it last said it was alive. While the run lives it renews the time; a
 * lease whose process is gone (same host) or silent for LEASE_STALE_MS (another host) marks an
 * orphaned run, whose proxies and toxics `cleanup` removes at once.
 */
import os from "node:os";
import { toxiproxy, toxiproxyOk } from "../toxiproxy-api.js";

const BEAT_MS = 10_000;
export const LEASE_STALE_MS = 60_000;

export interface LeaseInfo {
  host: string;
  pid: number;
  /** ms since the epoch of the last renewal */
  beat: number;
}

export const leaseProxyName = (prefix: string): string => `${prefix}-lease`;

export class RunLease {
  private constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly timer: NodeJS.Timeout,
  ) {}

  /** Puts the lease up; throws when Toxiproxy refuses it. */
  static async take(toxiproxyUrl: string, prefix: string): Promise<RunLease> {
    const name = leaseProxyName(prefix);
    const body = { name, listen: "127.0.0.1:0", upstream: current(), enabled: false };
    await toxiproxyOk(toxiproxyUrl, { method: "POST", path: "/proxies", body });
    const at = `/proxies/${encodeURIComponent(name)}`;
    const timer = setInterval(() => {
      const renew = { method: "POST" as const, path: at, body: { upstream: current() } };
      void toxiproxyOk(toxiproxyUrl, renew).catch(() => {});
    }, BEAT_MS);
    timer.unref();
    return new RunLease(toxiproxyUrl, name, timer);
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    const path = `/proxies/${encodeURIComponent(this.name)}`;
    await toxiproxy(this.url, { method: "DELETE", path }).catch(() => {});
  }
}

/** The lease a proxy's upstream field holds; undefined when it holds none. */
export function leaseOf(upstream: string): LeaseInfo | undefined {
  try {
    const v = JSON.parse(upstream) as Partial<LeaseInfo>;
    if (typeof v.host !== "string" || typeof v.pid !== "number" || typeof v.beat !== "number") {
      return undefined;
    }
    return { host: v.host, pid: v.pid, beat: v.beat };
  } catch {
    return undefined;
  }
}

/**
 * Whether the lease's run is alive: on this host, its process is; on another, it renewed the
 * lease within LEASE_STALE_MS.
 */
export function isLive(
  lease: LeaseInfo,
  now: number,
  host = os.hostname(),
  alive: (pid: number) => boolean = processAlive,
): boolean {
  return lease.host === host ? alive(lease.pid) : now - lease.beat < LEASE_STALE_MS;
}

function current(): string {
  return JSON.stringify({ host: os.hostname(), pid: process.pid, beat: Date.now() });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
