import toxiproxyClient from "toxiproxy-node-client";
import type { Proxy as ToxiProxy } from "toxiproxy-node-client";
import { InfrastructureError } from "../errors.js";
import type { ClientRole, ProxyControl, ProxyPort } from "./ports.js";

const { Toxiproxy } = toxiproxyClient;

/** Broker address (host:port) → the proxy address a client connects to instead. */
export type Route = Map<string, { host: string; port: number }>;

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
  /** node id → the exact address its proxy must listen on (where the broker advertises it) */
  listenAt?: Map<number, string>;
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
      const taken = await listenAddresses(toxiproxy);
      for (const b of opts.brokers) {
        const at = opts.listenAt?.get(b.nodeId);
        if (at) {
          proxies.set(b.nodeId, await createAt(toxiproxy, `${opts.name}-b${b.nodeId}`, at, b));
          continue;
        }
        const made = await createOnFreePort(
          toxiproxy,
          `${opts.name}-b${b.nodeId}`,
          listenHost,
          port,
          b,
          taken,
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
  taken: ReadonlySet<string>,
): Promise<{ proxy: ToxiProxy; port: number }> {
  let lastError: unknown = new Error("every port tried is another proxy's");
  for (let port = firstPort; port < firstPort + 200; port += 1) {
    // A disabled proxy (another run's cut-connection) has freed its port but will take it back.
    if (taken.has(`${host}:${port}`)) continue;
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

/** Every address a proxy of this Toxiproxy listens on, enabled or not. */
async function listenAddresses(toxiproxy: InstanceType<typeof Toxiproxy>): Promise<Set<string>> {
  const all = await toxiproxy.getAll();
  return new Set(Object.values(all).map((p) => p.listen));
}

async function createAt(
  toxiproxy: InstanceType<typeof Toxiproxy>,
  name: string,
  listen: string,
  broker: Broker,
): Promise<ToxiProxy> {
  try {
    return await toxiproxy.createProxy({
      name,
      listen,
      upstream: `${broker.host}:${broker.port}`,
    });
  } catch (err) {
    throw new InfrastructureError(
      toxiproxyUrlOf(toxiproxy),
      `could not create proxy ${name} at ${listen} (the address broker ${broker.nodeId} advertises; is another run using it?): ${(err as Error).message}`,
    );
  }
}

function toxiproxyUrlOf(toxiproxy: InstanceType<typeof Toxiproxy>): string {
  return toxiproxy.host;
}

/** A Toxiproxy proxy as a fault sees it. */
export function proxyPort(
  name: string,
  get: () => ToxiProxy,
  setEnabled: (enabled: boolean) => Promise<void>,
): ProxyPort {
  return {
    name,
    setEnabled,
    async addToxic({ name: toxic, type, stream, attributes }) {
      await get().addToxic({
        name: toxic,
        type: type as Parameters<ToxiProxy["addToxic"]>[0]["type"],
        stream,
        toxicity: 1,
        attributes,
      });
    },
    async removeToxic(toxic) {
      const found = await get()
        .getToxic(toxic)
        .catch(() => undefined);
      await found?.remove();
    },
  };
}

/**
 * The run's proxies as the faults' ProxyControl: one ProxySet per client role, plus the proxies
 * that carry replication traffic when the cluster's brokers replicate through Toxiproxy.
 */
export class RunProxies implements ProxyControl {
  constructor(
    private readonly sets: Partial<Record<ClientRole, ProxySet>>,
    private readonly replication: Map<number, ProxyPort> = new Map(),
  ) {}

  roles(): ClientRole[] {
    return (["producer", "processor", "app"] as const).filter((r) => this.sets[r] !== undefined);
  }

  brokers(role: ClientRole): number[] {
    return this.set(role).brokers.map((b) => b.nodeId);
  }

  proxy(role: ClientRole, nodeId: number): ProxyPort {
    const set = this.set(role);
    const name = set.proxy(nodeId).name;
    return proxyPort(
      name,
      () => set.proxy(nodeId),
      (enabled) => set.setEnabled(nodeId, enabled),
    );
  }

  replicationProxy(nodeId: number): ProxyPort | undefined {
    return this.replication.get(nodeId);
  }

  private set(role: ClientRole): ProxySet {
    const set = this.sets[role];
    if (!set) throw new Error(`no ${role} proxies in this run`);
    return set;
  }
}

/**
 * Proxies by name on a Toxiproxy server (the local stack's replication proxies): each call
 * looks the proxy up again, so a re-created proxy is found too.
 */
export function namedProxyPort(toxiproxyUrl: string, name: string): ProxyPort {
  const toxiproxy = new Toxiproxy(toxiproxyUrl);
  let current: ToxiProxy | undefined;
  const lookup = async () => (current = await toxiproxy.get(name));
  const port = proxyPort(
    name,
    () => current as ToxiProxy,
    async (enabled) => {
      const p = await lookup();
      await p.update({ enabled, listen: p.listen, upstream: p.upstream });
    },
  );
  return {
    ...port,
    addToxic: async (toxic) => {
      await lookup();
      await port.addToxic(toxic);
    },
    removeToxic: async (toxic) => {
      await lookup();
      await port.removeToxic(toxic);
    },
  };
}
