import fs from "node:fs";
import path from "node:path";
import { InfrastructureError } from "../errors.js";
import { toxiproxy, type ProxyState } from "../toxiproxy-api.js";
import { HOST, STATE_DIR, TOXIPROXY_PORT } from "./paths.js";
import { startDetached } from "./process.js";

export const TOXIPROXY_URL = `http://${HOST}:${TOXIPROXY_PORT}`;
export const toxiproxyLog = path.join(STATE_DIR, "toxiproxy.log");
export const toxiproxyPid = path.join(STATE_DIR, "toxiproxy.pid");

export function startToxiproxy(bin: string): number {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  return startDetached(
    bin,
    ["-host", HOST, "-port", String(TOXIPROXY_PORT)],
    toxiproxyLog,
    toxiproxyPid,
  );
}

/** True when a Toxiproxy server answers its version endpoint at the URL. */
export async function toxiproxyAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/version`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Name of the latency toxic `setProxyLatency` adds. */
export const STACK_LATENCY_TOXIC = "stack-replication-latency";

function api(method: "GET" | "POST" | "DELETE", path: string, body?: unknown) {
  return toxiproxy(TOXIPROXY_URL, { method, path, body, hint: "run `npm run stack:up`" });
}

function failed(what: string, r: { status: number; text: string }): InfrastructureError {
  return new InfrastructureError(TOXIPROXY_URL, `${what}: HTTP ${r.status} ${r.text.trim()}`, {
    retriable: false,
  });
}

export async function getProxy(name: string): Promise<ProxyState | undefined> {
  const r = await api("GET", `/proxies/${encodeURIComponent(name)}`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw failed(`reading proxy ${name}`, r);
  return r.json as ProxyState;
}

/** Creates the proxy unless one with that name, address and upstream exists (then kept as is). */
export async function ensureProxy(name: string, listen: string, upstream: string): Promise<void> {
  const current = await getProxy(name);
  if (current && current.listen === listen && current.upstream === upstream) return;
  if (current) await api("DELETE", `/proxies/${encodeURIComponent(name)}`);
  const r = await api("POST", "/proxies", { name, listen, upstream, enabled: true });
  if (r.status !== 201 && r.status !== 200) throw failed(`creating proxy ${name} on ${listen}`, r);
}

export async function setProxyEnabled(name: string, enabled: boolean): Promise<void> {
  const r = await api("POST", `/proxies/${encodeURIComponent(name)}`, { enabled });
  if (r.status !== 200) throw failed(`${enabled ? "enabling" : "disabling"} proxy ${name}`, r);
}

/** Adds (or changes) a downstream latency toxic on the proxy; undefined removes it. */
export async function setProxyLatency(name: string, ms: number | undefined): Promise<void> {
  const base = `/proxies/${encodeURIComponent(name)}/toxics`;
  if (ms === undefined) {
    const r = await api("DELETE", `${base}/${STACK_LATENCY_TOXIC}`);
    if (r.status !== 204 && r.status !== 200 && r.status !== 404) {
      throw failed(`removing latency from proxy ${name}`, r);
    }
    return;
  }
  const attributes = { latency: ms, jitter: 0 };
  const update = await api("POST", `${base}/${STACK_LATENCY_TOXIC}`, { attributes });
  if (update.status === 200) return;
  const r = await api("POST", base, {
    name: STACK_LATENCY_TOXIC,
    type: "latency",
    stream: "downstream",
    toxicity: 1,
    attributes,
  });
  if (r.status !== 200 && r.status !== 201) throw failed(`adding latency to proxy ${name}`, r);
}
