/**
 * How a run reaches its brokers for broker faults: the local stack's processes when the run's
 * cluster is the local stack, else the user's command templates. Chosen, and every missing
 * piece refused (exit 2), before the run creates anything.
 */
import { UsageError } from "../errors.js";
import {
  envVarOf,
  missingTemplates,
  profileFieldOf,
  templatesFromEnv,
  TemplateBrokerControl,
} from "../faults/broker/templates.js";
import type { Fault } from "../faults/fault.js";
import { kindOf } from "../faults/kinds.js";
import type { BrokerControl, ProxyPort } from "../faults/ports.js";
import { namedProxyPort, type Broker } from "../faults/proxies.js";
import type { ScheduledFault } from "../faults/schedule.js";
import type { Profile } from "../profiles/schema.js";
import {
  isLocalStack,
  controllerNode,
  healNode,
  isolateNode,
  killNode,
  localNodes,
  localStack,
  pauseNode,
  resumeNode,
  startNode,
  stopNode,
} from "../stack/nodes.js";
import { liveHolder, takeLease, type Lease } from "../stack/leases.js";

export interface BrokerAccess {
  control?: BrokerControl;
  /** node id → the proxy its followers fetch through (local 3-node stack) */
  replication?: Map<number, ProxyPort>;
  /** for --dry-run: how each broker fault would act */
  plan: string[];
  /** the local stack's lease the run must hold while it breaks brokers (stack/leases.ts) */
  lease?: string;
}

/** Broker faults on one local stack run one at a time: a second run would break the first. */
export const BROKER_FAULTS_LEASE = "broker-faults";

/** The local stack's brokers: signals to its own JVMs, its replication proxies. */
export class LocalBrokerControl implements BrokerControl {
  nodes(): number[] {
    return localNodes().map((n) => n.nodeId);
  }
  kill = killNode;
  stop = (nodeId: number) => stopNode(nodeId);
  start = (nodeId: number) => startNode(nodeId);
  pause = pauseNode;
  resume = resumeNode;
  isolate = isolateNode;
  heal = healNode;

  controller = controllerNode;
}

export function brokerAccess(
  profile: Profile,
  schedule: ScheduledFault[],
  brokers: Broker[],
  env: NodeJS.ProcessEnv = process.env,
): BrokerAccess {
  const faults = schedule.map((f) => f.fault);
  const needs = new Set(faults.flatMap((f) => kindOf(f.type).needs));
  if (!needs.has("brokers") && !needs.has("replication-proxies")) return { plan: [] };
  const local = isLocalStack(brokers);
  const replication = local ? localReplication() : new Map<number, ProxyPort>();
  if (needs.has("replication-proxies") && replication.size === 0) {
    const types = faults.filter((f) => kindOf(f.type).needs.includes("replication-proxies"));
    throw new UsageError(
      `${types[0]?.type}: needs the brokers' replication to go through Toxiproxy, as on the local stack started with \`npm run stack:up -- --brokers 3\``,
    );
  }
  if (local) {
    const held = liveHolder(BROKER_FAULTS_LEASE);
    if (held && held.pid !== process.pid) throw brokersBusy(held);
    return {
      control: new LocalBrokerControl(),
      replication,
      plan: ["brokers: the local stack's own processes (signals by pid; data kept)"],
      lease: BROKER_FAULTS_LEASE,
    };
  }
  const control = templateControl(profile, faults, brokers, env);
  return { control, replication, plan: templatePlan(control, schedule) };
}

/** Takes the local stack's broker-fault lease for the run; refuses while another run holds it. */
export function takeBrokerLease(lease: string, runId: string): string {
  const held = takeLease(lease, runId);
  if (held) throw brokersBusy(held);
  return lease;
}

function brokersBusy(held: Lease): UsageError {
  return new UsageError(
    `broker faults: another live run (${held.holder ?? "unknown"}, pid ${held.pid}) is breaking the local stack's brokers; broker faults on one stack run one at a time: start this run after it, or without broker faults`,
  );
}

function templateControl(
  profile: Profile,
  faults: Fault[],
  brokers: Broker[],
  env: NodeJS.ProcessEnv,
): TemplateBrokerControl {
  const commands = { ...profile.brokers?.commands, ...templatesFromEnv(env) };
  const needed = [...new Set(faults.flatMap((f) => kindOf(f.type).brokerActions ?? []))];
  const missing = missingTemplates(commands, needed);
  if (missing.length > 0) {
    const what = missing.map((a) => `${envVarOf(a)} or ${profileFieldOf(a)}`).join("; ");
    throw new UsageError(
      `broker faults on a cluster the tool did not start need a command per action; missing: ${what} (placeholders {host} {nodeId} {port}; see the README)`,
    );
  }
  if (faults.some((f) => "target" in f && f.target === "controller")) {
    throw new UsageError(
      "target controller: only known on the local stack; on other clusters name the controller as broker-<nodeId>",
    );
  }
  return new TemplateBrokerControl({
    commands,
    hosts: brokers,
    ...(profile.brokers?.timeout ? { timeoutMs: profile.brokers.timeout } : {}),
  });
}

function templatePlan(control: TemplateBrokerControl, schedule: ScheduledFault[]): string[] {
  const lines = ["broker commands (sh -c):"];
  for (const f of schedule) {
    const actions = kindOf(f.fault.type).brokerActions;
    if (!actions || !("target" in f.fault)) continue;
    const target: string = f.fault.target;
    const nodes = target.startsWith("broker-")
      ? [Number(target.slice("broker-".length))]
      : control.nodes();
    const chosen = target.startsWith("broker-") ? "" : ` (${target}: the broker chosen at start)`;
    lines.push(`  ${f.label}${chosen}:`);
    for (const node of nodes) {
      for (const action of actions)
        lines.push(`    ${action} ${node}: ${control.dryRun(action, node)}`);
    }
  }
  return lines;
}

function localReplication(): Map<number, ProxyPort> {
  const stack = localStack();
  const map = new Map<number, ProxyPort>();
  for (const n of localNodes()) {
    if (stack && n.replicationProxy) {
      map.set(n.nodeId, namedProxyPort(stack.toxiproxy, n.replicationProxy));
    }
  }
  return map;
}
