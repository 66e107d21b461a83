import type { BrokerFaultOf } from "../fault.js";
import { brokerKind } from "./broker.js";

export type KillBrokerFault = BrokerFaultOf<"kill-broker", Record<string, never>>;

/** SIGKILL the broker; after `for` it is started again on its data. */
export const killBroker = brokerKind<KillBrokerFault>({
  type: "kill-broker",
  summary: "SIGKILL the broker; restart it after for, with its data",
  actions: ["kill", "start"],
});
