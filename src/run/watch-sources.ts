/** What the watchdog reads besides the history: Toxiproxy's proxies, and the processors' progress. */
import type { ProxyState } from "./watchdog.js";
import { listProxies } from "../toxiproxy-api.js";
import fs from "node:fs";
import path from "node:path";
import type { HistoryEvent } from "../history/events.js";
import type { HistoryWriter } from "../history/writer.js";

/** Shows every event appended to the history to `observe` as well (producer, nemesis, pool). */
export function tapHistory(history: HistoryWriter, observe: (e: HistoryEvent) => void): void {
  const append = history.append.bind(history);
  history.append = (event: HistoryEvent) => {
    append(event);
    observe(event);
  };
}

/** Toxiproxy's proxies over its HTTP API, bounded in time. */
export async function listToxiproxy(
  url: string,
  timeoutMs = 3000,
): Promise<Map<string, ProxyState>> {
  const proxies = await listProxies(url, timeoutMs);
  return new Map(
    [...proxies].map(([name, p]) => [
      name,
      { enabled: p.enabled, listen: p.listen, toxics: (p.toxics ?? []).map((t) => t.name) },
    ]),
  );
}

/**
 * Counts the input records the processor workers processed (outcome ok or aborted), reading the
 * workers' own history files (`processor-<slot>-<incarnation>.jsonl`) as they grow.
 */
export class ProcessedCounter {
  private readonly read = new Map<string, { offset: number; rest: string }>();
  private total = 0;

  constructor(private readonly dir: string) {}

  count(): number {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => /^processor-\d+-\d+\.jsonl$/.test(n));
    } catch {
      return this.total;
    }
    for (const name of names) this.readNew(name);
    return this.total;
  }

  private readNew(name: string): void {
    const file = path.join(this.dir, name);
    const state = this.read.get(name) ?? { offset: 0, rest: "" };
    this.read.set(name, state);
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, "r");
      const size = fs.fstatSync(fd).size;
      if (size <= state.offset) return;
      const buf = Buffer.alloc(size - state.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, state.offset);
      state.offset += n;
      const lines = (state.rest + buf.subarray(0, n).toString("utf8")).split("\n");
      state.rest = lines.pop() ?? "";
      for (const line of lines) this.total += processedIn(line);
    } catch {
      // a file being created or removed: read it next time
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
}

export function processedIn(line: string): number {
  if (!line.includes('"processed"')) return 0;
  try {
    const e = JSON.parse(line) as HistoryEvent;
    if (e.type !== "processed" || e.outcome === "unknown") return 0;
    return e.items.length;
  } catch {
    return 0;
  }
}
