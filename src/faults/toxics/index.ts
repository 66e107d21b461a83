import type { Proxy as ToxiProxy } from "toxiproxy-node-client";
import type { NetworkFault, NetworkFaultType } from "../spec.js";
import { bandwidth } from "./bandwidth.js";
import { cutConnection } from "./cut-connection.js";
import { dropAcks } from "./drop-acks.js";
import { latency } from "./latency.js";
import { resetPeer } from "./reset-peer.js";
import { slowClose } from "./slow-close.js";

/** How one fault type breaks one broker's proxy, and how it heals it. */
export interface FaultAction {
  start(proxy: ToxiProxy, fault: NetworkFault, toxicName: string): Promise<ToxiProxy | void>;
  stop(proxy: ToxiProxy, toxicName: string): Promise<ToxiProxy | void>;
}

export const ACTIONS: Record<NetworkFaultType, FaultAction> = {
  "cut-connection": cutConnection,
  "drop-acks": dropAcks,
  latency,
  bandwidth,
  "reset-peer": resetPeer,
  "slow-close": slowClose,
};
