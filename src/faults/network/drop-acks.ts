import type { NetworkFaultOf } from "../fault.js";
import { networkKind } from "./network.js";
import { toxicAction } from "./toxic.js";

export type DropAcksFault = NetworkFaultOf<"drop-acks", Record<string, never>>;

/**
 * Requests still reach the broker, but nothing comes back: a `timeout` toxic with timeout 0 on
 * the downstream (broker → client) side holds the connection open and drops every response.
 */
export const dropAcks = networkKind<DropAcksFault>({
  type: "drop-acks",
  summary: "requests reach the broker, responses (acks) never come back",
  params: {},
  defaults: {},
  defaultTarget: "leader",
  action: toxicAction("timeout", "downstream", { timeout: 0 }),
});
