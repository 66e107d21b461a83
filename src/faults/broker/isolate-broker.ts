import type { BrokerFaultOf } from "../fault.js";
import { brokerKind } from "./broker.js";

export type IsolateBrokerFault = BrokerFaultOf<"isolate-broker", Record<string, never>>;

/**
 * Its replication traffic is cut while clients still reach it: a leader that keeps accepting
 * writes nobody replicates, until its followers drop out of the ISR.
 */
export const isolateBroker = brokerKind<IsolateBrokerFault>({
  type: "isolate-broker",
  summary: "cut its replication traffic; clients still reach it",
  actions: ["isolate", "heal"],
});
