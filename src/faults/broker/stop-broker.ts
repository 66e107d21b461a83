import type { BrokerFaultOf } from "../fault.js";
import { brokerKind, brokersOf } from "./broker.js";

export type StopBrokerFault = BrokerFaultOf<"stop-broker", Record<string, never>>;

/** Clean shutdown (SIGTERM: leadership moves away first); started again after `for`. */
export const stopBroker = brokerKind<StopBrokerFault>({
  type: "stop-broker",
  summary: "clean shutdown (SIGTERM); restart after for",
  act: (fault, node, ports) => {
    const brokers = brokersOf(ports, fault.type);
    return { apply: () => brokers.stop(node), heal: () => brokers.start(node) };
  },
});
