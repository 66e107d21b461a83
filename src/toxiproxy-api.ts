/**
 * Toxiproxy's HTTP API, for the calls kafka-chaos makes beside toxiproxy-node-client: listing
 * every proxy (the watchdog, cleanup), run leases, the local stack's own proxies. One request,
 * bounded in time; a server that does not answer is an InfrastructureError naming its URL.
 */
import { InfrastructureError } from "./errors.js";

export interface ToxiproxyAnswer {
  status: number;
  /** the body parsed as JSON; undefined when empty or not JSON */
  json: unknown;
  text: string;
}

export interface ToxiproxyCall {
  method: "GET" | "POST" | "DELETE";
  path: string;
  body?: unknown;
  timeoutMs?: number;
  /** what to tell the user when the server does not answer, e.g. how to start it */
  hint?: string;
}

/** One call; any HTTP status is an answer for the caller to judge. */
export async function toxiproxy(url: string, call: ToxiproxyCall): Promise<ToxiproxyAnswer> {
  let res: Response;
  try {
    res = await fetch(`${url}${call.path}`, {
      method: call.method,
      headers: call.body === undefined ? {} : { "content-type": "application/json" },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(call.timeoutMs ?? 5000),
    });
  } catch (err) {
    const hint = call.hint ? `; ${call.hint}` : "";
    throw new InfrastructureError(
      url,
      `Toxiproxy is not reachable (${(err as Error).message})${hint}`,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** As `toxiproxy`, and an answer other than 2xx (or 404, where `missingOk`) is an error too. */
export async function toxiproxyOk(
  url: string,
  call: ToxiproxyCall & { missingOk?: boolean },
): Promise<ToxiproxyAnswer> {
  const answer = await toxiproxy(url, call);
  const ok = answer.status < 300 || (call.missingOk === true && answer.status === 404);
  if (!ok) {
    throw new InfrastructureError(
      url,
      `Toxiproxy: ${call.method} ${call.path}: HTTP ${answer.status} ${answer.text.trim()}`,
      { retriable: false },
    );
  }
  return answer;
}

/** A proxy as the API lists it. */
export interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: { name: string; type: string; stream: string }[];
}

/** Every proxy of the server, by name. */
export async function listProxies(
  url: string,
  timeoutMs?: number,
): Promise<Map<string, ProxyState>> {
  const { json } = await toxiproxyOk(url, {
    method: "GET",
    path: "/proxies",
    ...(timeoutMs ? { timeoutMs } : {}),
  });
  return new Map(Object.entries((json ?? {}) as Record<string, ProxyState>));
}
