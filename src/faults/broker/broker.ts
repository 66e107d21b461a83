/**
 * What every broker fault shares: it hits one broker, chosen when the fault starts (leadership
 * moves during a run), through the BrokerControl port — the local stack, or user commands.
 */
import type { BrokerFault, BrokerTarget } from "../fault.js";
import type { FaultKind, Need, Ports } from "../kind.js";
import { FaultSpecError, optional, show } from "../params.js";
import type { BrokerAction } from "../ports.js";

export const BROKER_KEYS = ["target", "at", "for", "repeat", "every"] as const;

/** Long enough for a failover to happen and be seen, short enough for a run of a minute. */
export const DEFAULT_BROKER_FAULT_MS = 10_000;

const TARGET_WORDS = ["leader", "follower", "controller", "coordinator", "random"] as const;

type Act<F> = (
  fault: F,
  node: number,
  ports: Ports,
  name: string,
) => { apply(): Promise<void>; heal(): Promise<void> };

/**
 * A broker fault: either a pair of BrokerControl actions (`actions`: how it breaks the broker,
 * how it heals it) or its own `act`.
 */
export function brokerKind<F extends BrokerFault>(
  spec: {
    type: F["type"];
    summary: string;
    needs?: readonly Need[];
    params?: FaultKind<F>["params"];
    defaults?: F["params"];
  } & ({ actions: readonly [BrokerAction, BrokerAction] } | { act: Act<F> }),
): FaultKind<F> {
  const act: Act<F> = "act" in spec ? spec.act : actionsAct(spec.type, spec.actions);
  return {
    type: spec.type,
    family: "broker",
    summary: spec.summary,
    keys: BROKER_KEYS,
    params: spec.params ?? ({} as FaultKind<F>["params"]),
    defaults: spec.defaults ?? ({} as F["params"]),
    needs: spec.needs ?? ["brokers"],
    ...("actions" in spec ? { brokerActions: spec.actions } : {}),
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
      return { target: named, node, ...act(fault, node, ports, name) };
    },
  };
}

/** apply and heal through the run's BrokerControl. */
function actionsAct<F>(type: string, [apply, heal]: readonly [BrokerAction, BrokerAction]): Act<F> {
  return (_fault, node, ports) => {
    const brokers = ports.brokers;
    if (!brokers) throw new Error(`${type}: the run has no control over the brokers`);
    return { apply: () => brokers[apply](node), heal: () => brokers[heal](node) };
  };
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
      // Not one another broker fault holds now: pausing a killed broker cannot happen.
      const held = ports.heldBrokers?.() ?? [];
      const all = ports.brokers?.nodes() ?? [];
      const free = all.filter((n) => !held.includes(n));
      const nodes = free.length > 0 ? free : all;
      const node = nodes[Math.floor(ports.random() * nodes.length)];
      return first(node === undefined ? [] : [node], "broker");
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
