import type { BrokerFaultOf } from "../fault.js";
import { brokerKind, brokersOf } from "./broker.js";

export type KillBrokerFault = BrokerFaultOf<"kill-broker", Record<string, never>>;

/** SIGKILL the broker; after `for` it is started again on its data. */
export const killBroker = brokerKind<KillBrokerFault>({
  type: "kill-broker",
  summary: "SIGKILL the broker; restart it after for, with its data",
  act: (fault, node, ports) => {
    const brokers = brokersOf(ports, fault.type);
    return { apply: () => brokers.kill(node), heal: () => brokers.start(node) };
  },
});
