import type { BrokerFaultOf } from "../fault.js";
import { brokerKind } from "./broker.js";

export type StopBrokerFault = BrokerFaultOf<"stop-broker", Record<string, never>>;

/** Clean shutdown (SIGTERM: leadership moves away first); started again after `for`. */
export const stopBroker = brokerKind<StopBrokerFault>({
  type: "stop-broker",
  summary: "clean shutdown (SIGTERM); restart after for",
  actions: ["stop", "start"],
});
