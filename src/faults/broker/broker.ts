/**
 * What every broker fault shares: it hits one broker, chosen when the fault starts (leadership
 * moves during a run), through the BrokerControl port — the local stack, or user commands.
 */
import type { BrokerFault, BrokerTarget } from "../fault.js";
import type { FaultKind, Need, Ports } from "../kind.js";
import { FaultSpecError, optional, show } from "../params.js";
import type { BrokerControl } from "../ports.js";

export const BROKER_KEYS = ["target", "at", "for", "repeat", "every"] as const;

/** Long enough for a failover to happen and be seen, short enough for a run of a minute. */
export const DEFAULT_BROKER_FAULT_MS = 10_000;

const TARGET_WORDS = ["leader", "follower", "controller", "coordinator", "random"] as const;

export function brokerKind<F extends BrokerFault>(spec: {
  type: F["type"];
  summary: string;
  needs?: readonly Need[];
  params?: FaultKind<F>["params"];
  defaults?: F["params"];
  act: (
    fault: F,
    node: number,
    ports: Ports,
    name: string,
  ) => { apply(): Promise<void>; heal(): Promise<void> };
}): FaultKind<F> {
  return {
    type: spec.type,
    family: "broker",
    summary: spec.summary,
    keys: BROKER_KEYS,
    params: spec.params ?? ({} as FaultKind<F>["params"]),
    defaults: spec.defaults ?? ({} as F["params"]),
    needs: spec.needs ?? ["brokers"],
    defaultDuration: DEFAULT_BROKER_FAULT_MS,
    defaultEvery: (duration) => 2 * duration,
    placement: (values) =>
      ({ target: optional(values, "target", readBrokerTarget, "leader") }) as Partial<F>,
    formatPlacement: (fault) => (fault.target === "leader" ? [] : [`target=${fault.target}`]),
    fits(fault, profile) {
      if (fault.target !== "coordinator" || profile.processor.enabled) return undefined;
      return {
        key: "target",
        problem: "target coordinator: the pipeline has no processor (processor.enabled is false)",
      };
    },
    async prepare(fault, ports, name) {
      const node = await resolveBroker(fault.target, ports);
      const named = fault.target.startsWith("broker-")
        ? fault.target
        : `broker-${node} (${fault.target})`;
      return { target: named, ...spec.act(fault, node, ports, name) };
    },
  };
}

export function brokersOf(ports: Ports, type: string): BrokerControl {
  if (!ports.brokers) throw new Error(`${type}: the run has no control over the brokers`);
  return ports.brokers;
}

/** The broker a target names, now. */
export async function resolveBroker(target: BrokerTarget, ports: Ports): Promise<number> {
  const { targets } = ports;
  const first = (list: number[], what: string): number => {
    const node = list[0];
    if (node === undefined) throw new Error(`target ${target}: no ${what} found`);
    return node;
  };
  switch (target) {
    case "leader":
      return targets.partitionLeader();
    case "follower":
      return first(await targets.followers(), "follower of input partition 0");
    case "controller":
      return targets.controller();
    case "coordinator": {
      const node = await targets.transactionCoordinator();
      return first(node === undefined ? [] : [node], "coordinator of the processor");
    }
    case "random": {
      const nodes = brokersOf(ports, "target random").nodes();
      return first([nodes[Math.floor(ports.random() * nodes.length)] ?? -1], "broker");
    }
    default:
      return Number(target.slice("broker-".length));
  }
}

function readBrokerTarget(value: unknown): BrokerTarget {
  if ((TARGET_WORDS as readonly unknown[]).includes(value)) return value as BrokerTarget;
  if (typeof value === "string" && /^broker-\d+$/.test(value)) return value as BrokerTarget;
  throw new FaultSpecError(
    "target",
    `expected ${TARGET_WORDS.join(", ")} or broker-<nodeId>, got ${show(value)}`,
  );
}
