import type { NetworkFaultOf } from "../fault.js";
import { networkKind } from "./network.js";
import { toxicAction } from "./toxic.js";

/** ms */
export type ResetPeerFault = NetworkFaultOf<"reset-peer", { timeout: number }>;

/** Connections are reset (TCP RST) after `timeout` ms, over and over while the fault lasts. */
export const resetPeer = networkKind<ResetPeerFault>({
  type: "reset-peer",
  summary: "connections reset (TCP RST) after timeout, over and over",
  params: { timeout: "duration" },
  defaults: { timeout: 0 },
  action: toxicAction("reset_peer", "upstream"),
});
