/**
 * What every network fault shares: it breaks the connections of one client role (`role`) to
 * some brokers (`target`) through the run's Toxiproxy proxies, for `for`.
 */
import type { FaultRole, FaultTarget, NetworkFault } from "../fault.js";
import { FAULT_ROLES } from "../fault.js";
import type { Action, FaultKind, ParamKind, Ports } from "../kind.js";
import { FaultSpecError, optional, readChoice, show } from "../params.js";
import type { ClientRole, ProxyPort } from "../ports.js";

/** How one fault type breaks one proxy, and how it heals it. */
export interface ProxyAction<F extends NetworkFault> {
  start(proxy: ProxyPort, fault: F, name: string): Promise<void>;
  stop(proxy: ProxyPort, name: string): Promise<void>;
}

export const NETWORK_KEYS = ["target", "role", "at", "for", "repeat", "every"] as const;

export function networkKind<F extends NetworkFault>(spec: {
  type: F["type"];
  summary: string;
  params: { [K in keyof F["params"]]-?: ParamKind };
  defaults: F["params"];
  defaultTarget?: FaultTarget;
  action: ProxyAction<F>;
}): FaultKind<F> {
  const defaultTarget = spec.defaultTarget ?? "all";
  return {
    type: spec.type,
    family: "network",
    summary: spec.summary,
    keys: NETWORK_KEYS,
    params: spec.params,
    defaults: spec.defaults,
    needs: ["proxies"],
    defaultEvery: (duration) => 2 * duration,
    placement: (values) =>
      ({
        target: optional(values, "target", readTarget, defaultTarget),
        role: optional(values, "role", (v) => readChoice("role", v, FAULT_ROLES), "producer"),
      }) as Partial<F>,
    formatPlacement: (fault) => [
      ...(fault.target !== defaultTarget ? [`target=${fault.target}`] : []),
      ...(fault.role !== "producer" ? [`role=${fault.role}`] : []),
    ],
    fits(fault, profile) {
      if (fault.role === "app" && !profile.app) {
        return { key: "role", problem: "role app: the profile has no app section" };
      }
      if (fault.role === "processor" && profile.app) {
        return {
          key: "role",
          problem: "role processor: this pipeline's processor is its app; use role=app",
        };
      }
      if (profile.processor.enabled) return undefined;
      const disabled = "the pipeline has no processor (processor.enabled is false)";
      if (fault.role === "processor")
        return { key: "role", problem: `role processor: ${disabled}` };
      if (fault.target === "coordinator") {
        return { key: "target", problem: `target coordinator: ${disabled}` };
      }
      return undefined;
    },
    prepare: (fault, ports, name) => prepareOnProxies(fault, ports, name, spec.action),
  };
}

async function prepareOnProxies<F extends NetworkFault>(
  fault: F,
  ports: Ports,
  name: string,
  action: ProxyAction<F>,
): Promise<Action> {
  const control = ports.proxies;
  if (!control) throw new Error(`${fault.type}: the run has no proxies`);
  const roles = rolesOf(fault.role).filter((r) => control.roles().includes(r));
  const first = roles[0] ?? control.roles()[0];
  // Every role's proxies front the same brokers: the target is resolved once, for all roles.
  const hit = first === undefined ? [] : await nodes(fault.target, control.brokers(first), ports);
  const proxies: ProxyPort[] = roles.flatMap((role) => hit.map((n) => control.proxy(role, n)));
  const where =
    fault.target === "all" ? "all" : `${fault.target} (${hit.map((n) => `broker-${n}`).join(",")})`;
  return {
    target: fault.role === "producer" ? where : `${where} of ${fault.role}`,
    onProxies: { toxic: name, proxies: proxies.map((p) => p.name) },
    async apply() {
      for (const proxy of proxies) await action.start(proxy, fault, name);
    },
    async heal() {
      for (const proxy of proxies) await action.stop(proxy, name);
    },
  };
}

function rolesOf(role: FaultRole): ClientRole[] {
  return role === "all" ? ["producer", "processor", "app"] : [role];
}

async function nodes(target: FaultTarget, all: number[], ports: Ports): Promise<number[]> {
  if (target === "all") return all;
  if (target === "leader") return ports.targets.leaders();
  if (target === "coordinator") {
    const coordinators = await ports.targets.coordinators();
    return coordinators.length > 0 ? coordinators : all;
  }
  return [Number(target.slice("broker-".length))];
}

function readTarget(value: unknown): FaultTarget {
  if (value === "all" || value === "leader" || value === "coordinator") return value;
  if (typeof value === "string" && /^broker-\d+$/.test(value)) return value as FaultTarget;
  throw new FaultSpecError(
    "target",
    `expected all, leader, coordinator or broker-<nodeId>, got ${show(value)}`,
  );
}
