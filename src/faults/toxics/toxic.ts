import type { Proxy as ToxiProxy } from "toxiproxy-node-client";
import type { Direction, Type } from "toxiproxy-node-client/dist/Toxic.js";
import type { FaultAction } from "./index.js";

/** A fault that is one Toxiproxy toxic: added on start, removed on stop. */
export function toxicFault<A>(
  type: Type,
  stream: Direction,
  attributes: (fault: Parameters<FaultAction["start"]>[1]) => A,
): FaultAction {
  return {
    async start(proxy, fault, name) {
      await proxy.addToxic<A>({ name, type, stream, toxicity: 1, attributes: attributes(fault) });
    },
    async stop(proxy: ToxiProxy, name) {
      const toxic = await proxy.getToxic(name).catch(() => undefined);
      await toxic?.remove();
    },
  };
}
