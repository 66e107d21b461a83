import type { NetworkFaultOf } from "../fault.js";
import { networkKind } from "./network.js";

export type CutConnectionFault = NetworkFaultOf<"cut-connection", Record<string, never>>;

/** The proxy is disabled: open connections are closed and new ones refused until it heals. */
export const cutConnection = networkKind<CutConnectionFault>({
  type: "cut-connection",
  summary: "connections closed and refused until healed",
  params: {},
  defaults: {},
  action: {
    start: (proxy) => proxy.setEnabled(false),
    stop: (proxy) => proxy.setEnabled(true),
  },
});
