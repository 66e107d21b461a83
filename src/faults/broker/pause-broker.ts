import type { BrokerFaultOf } from "../fault.js";
import { brokerKind } from "./broker.js";

export type PauseBrokerFault = BrokerFaultOf<"pause-broker", Record<string, never>>;

/** SIGSTOP for `for`, then SIGCONT: a broker that wakes up after its session expired. */
export const pauseBroker = brokerKind<PauseBrokerFault>({
  type: "pause-broker",
  summary: "SIGSTOP for for, then SIGCONT",
  actions: ["pause", "resume"],
});
