import type { NetworkFault } from "../fault.js";
import type { ProxyAction } from "./network.js";

/**
 * A fault that is one Toxiproxy toxic: added on start, removed on stop. Its attributes are the
 * fault's own params, unless `fixed` is given.
 */
export function toxicAction<F extends NetworkFault>(
  type: string,
  stream: "upstream" | "downstream",
  fixed?: object,
): ProxyAction<F> {
  return {
    start: (proxy, fault, name) =>
      proxy.addToxic({ name, type, stream, attributes: fixed ?? fault.params }),
    stop: (proxy, name) => proxy.removeToxic(name),
  };
}
