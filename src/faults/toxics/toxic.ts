import type { Proxy as ToxiProxy } from "toxiproxy-node-client";
import type { Direction, Type } from "toxiproxy-node-client/dist/Toxic.js";
import type { FaultAction } from "./index.js";

/**
 * A fault that is one Toxiproxy toxic: added on start, removed on stop. Its attributes are the
 * fault's own params (ACTIONS is keyed by fault type, so they match), unless `fixed` is given.
 */
export function toxicFault(type: Type, stream: Direction, fixed?: object): FaultAction {
  return {
    async start(proxy, fault, name) {
      const attributes = fixed ?? fault.params;
      await proxy.addToxic({ name, type, stream, toxicity: 1, attributes });
    },
    async stop(proxy: ToxiProxy, name) {
      const toxic = await proxy.getToxic(name).catch(() => undefined);
      await toxic?.remove();
    },
  };
}
