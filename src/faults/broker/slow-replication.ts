import type { BrokerFaultOf } from "../fault.js";
import { brokerKind } from "./broker.js";

/** ms */
export type SlowReplicationFault = BrokerFaultOf<
  "slow-replication",
  { latency: number; jitter: number }
>;

/**
 * Followers fetching from the broker get its data `latency` ms late, yet stay in the ISR (below
 * replica.lag.time.max.ms): a leader ahead of its in-sync followers. Killing it then shows
 * what acks=1 loses. Needs replication through Toxiproxy (the local 3-node stack).
 */
export const slowReplication = brokerKind<SlowReplicationFault>({
  type: "slow-replication",
  summary: "followers get the broker's data latency late, yet stay in the ISR",
  needs: ["replication-proxies"],
  params: { latency: "duration", jitter: "duration" },
  defaults: { latency: 500, jitter: 0 },
  act: (fault, node, ports, name) => {
    const proxy = ports.proxies?.replicationProxy?.(node);
    if (!proxy) throw new Error(`${fault.type}: broker ${node} has no replication proxy`);
    return {
      apply: () =>
        proxy.addToxic({ name, type: "latency", stream: "downstream", attributes: fault.params }),
      heal: () => proxy.removeToxic(name),
    };
  },
});
