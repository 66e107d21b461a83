import toxiproxyClient from "toxiproxy-node-client";
import type { Proxy as ToxiProxy } from "toxiproxy-node-client";
import { InfrastructureError } from "../errors.js";
import type { Route } from "../workload/client.js";

const { Toxiproxy } = toxiproxyClient;

export interface Broker {
  nodeId: number;
  host: string;
  port: number;
}

export interface ProxySetOptions {
  toxiproxyUrl: string;
  /** Prefix of every proxy name, e.g. "kc-<runId>-producer"; cleanup finds leftovers by it. */
  name: string;
  brokers: Broker[];
  listenHost?: string;
  /** Proxies listen on the first free ports from here; kept below the ephemeral range. */
  portBase?: number;
}

/** One Toxiproxy proxy per broker for one client role of one run. */
export class ProxySet {
  private constructor(
    readonly toxiproxy: InstanceType<typeof Toxiproxy>,
    readonly url: string,
    private readonly proxies: Map<number, ToxiProxy>,
    readonly brokers: Broker[],
  ) {}

  static async create(opts: ProxySetOptions): Promise<ProxySet> {
    const toxiproxy = new Toxiproxy(opts.toxiproxyUrl);
    await ensureReachable(toxiproxy, opts.toxiproxyUrl);
    const listenHost = opts.listenHost ?? "127.0.0.1";
    const proxies = new Map<number, ToxiProxy>();
    const set = new ProxySet(toxiproxy, opts.toxiproxyUrl, proxies, opts.brokers);
    let port = opts.portBase ?? 21000;
    try {
      for (const b of opts.brokers) {
        const made = await createOnFreePort(
          toxiproxy,
          `${opts.name}-b${b.nodeId}`,
          listenHost,
          port,
          b,
        );
        proxies.set(b.nodeId, made.proxy);
        port = made.port + 1;
      }
    } catch (err) {
      await set.remove();
      throw err;
    }
    return set;
  }

  /** Broker address → this set's proxy for it, for the kafkajs socketFactory. */
  route(): Route {
    const route: Route = new Map();
    for (const b of this.brokers) {
      const listen = this.proxy(b.nodeId).listen;
      const i = listen.lastIndexOf(":");
      route.set(`${b.host}:${b.port}`, {
        host: listen.slice(0, i),
        port: Number(listen.slice(i + 1)),
      });
    }
    return route;
  }

  proxy(nodeId: number): ToxiProxy {
    const p = this.proxies.get(nodeId);
    if (!p) throw new Error(`no proxy for broker ${nodeId}`);
    return p;
  }

  names(): string[] {
    return [...this.proxies.values()].map((p) => p.name);
  }

  async setEnabled(nodeId: number, enabled: boolean): Promise<void> {
    const p = this.proxy(nodeId);
    this.proxies.set(nodeId, await p.update({ enabled, listen: p.listen, upstream: p.upstream }));
  }

  /** Removes every proxy of the set (and so every toxic on them); safe to call twice. */
  async remove(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.allSettled(all.map((p) => p.remove()));
  }
}

async function ensureReachable(
  toxiproxy: InstanceType<typeof Toxiproxy>,
  url: string,
): Promise<void> {
  try {
    await toxiproxy.getVersion();
  } catch (err) {
    throw new InfrastructureError(url, `Toxiproxy is not reachable (${(err as Error).message})`);
  }
}

async function createOnFreePort(
  toxiproxy: InstanceType<typeof Toxiproxy>,
  name: string,
  host: string,
  firstPort: number,
  broker: Broker,
): Promise<{ proxy: ToxiProxy; port: number }> {
  let lastError: unknown;
  for (let port = firstPort; port < firstPort + 200; port += 1) {
    try {
      const proxy = await toxiproxy.createProxy({
        name,
        listen: `${host}:${port}`,
        upstream: `${broker.host}:${broker.port}`,
      });
      return { proxy, port };
    } catch (err) {
      lastError = err;
      // 409: the name is taken (not a port problem); anything else: try the next port.
      if (/409/.test(String((err as Error).message))) break;
    }
  }
  throw new InfrastructureError(
    toxiproxyUrlOf(toxiproxy),
    `could not create proxy ${name} for broker ${broker.host}:${broker.port}: ${(lastError as Error).message}`,
  );
}

function toxiproxyUrlOf(toxiproxy: InstanceType<typeof Toxiproxy>): string {
  return toxiproxy.host;
}
