import { UsageError } from "../errors.js";
import { kindOf } from "../faults/kinds.js";
import type { ClientRole } from "../faults/ports.js";
import type { Broker } from "../faults/proxies.js";
import type { ScheduledFault } from "../faults/schedule.js";
import type { AppSettings, Profile } from "../profiles/schema.js";
import { isLocalStack } from "../stack/nodes.js";
import { leaseListeners, localListeners, type ListenerUse } from "../stack/listener-slots.js";

export type Listener = NonNullable<AppSettings["listeners"]>[number];

/**
 * role → the listeners its clients go through, for the roles whose clients only brokers can
 * route (the user's app in any language, the librdkafka engine: no socket factory). Each broker
 * advertises an extra listener at the address of the role's proxy. Undefined for such a role
 * that no network fault hits: its clients connect to the cluster directly.
 */
export type Routing = Map<ClientRole, Listener[] | undefined>;

/** The local stack's listeners a run routes a role through (a run leases a slot of them). */
export type LocalListeners = (use: ListenerUse) => Listener[];

/**
 * The local stack's listeners for a run: the first slot no live run holds, leased for this run
 * (its name pushed on `leases`, for the run to release once its proxies are gone). Every slot
 * held: exit 2.
 */
export function leasedListeners(runId: string, leases: string[]): LocalListeners {
  return (use) => {
    const got = leaseListeners(use, runId);
    if ("lease" in got) {
      leases.push(got.lease);
      return got.listeners;
    }
    if (got.held.length === 0) return [];
    const runs = got.held.map((h) => `${h.holder ?? "?"} (pid ${h.pid})`).join(", ");
    throw new UsageError(
      `every ${use === "app" ? "APP" : "PRODUCER"} listener slot of the local stack (${got.held.length}) is routed by a live run: ${runs}; start this run when one of them has ended`,
    );
  };
}

/**
 * The routed roles of a run and, where a network fault hits one, its listeners: the profile's,
 * else the local stack's from `local` (by default its first slot, as a plan shows them).
 */
export function routedListeners(
  profile: Profile,
  schedule: ScheduledFault[],
  brokers: Broker[],
  local: LocalListeners = (use) => localListeners(use),
): Routing {
  const routing: Routing = new Map();
  const librdkafka = profile.client === "librdkafka";
  const of = (role: ClientRole) => listenersOf(role, profile, schedule, brokers, local);
  if (profile.app) routing.set("app", of("app"));
  else if (profile.processor.enabled && librdkafka) routing.set("processor", of("processor"));
  if (librdkafka) routing.set("producer", of("producer"));
  return routing;
}

/** The roles that get proxies: every role a run has, but a routed one only with listeners. */
export function proxiedRoles(profile: Profile, routing: Routing): ClientRole[] {
  const roles: ClientRole[] = ["producer"];
  if (profile.app) roles.push("app");
  else if (profile.processor.enabled) roles.push("processor");
  return roles.filter((role) => !routing.has(role) || routing.get(role) !== undefined);
}

function listenersOf(
  role: ClientRole,
  profile: Profile,
  schedule: ScheduledFault[],
  brokers: Broker[],
  local: LocalListeners,
): Listener[] | undefined {
  const hit = schedule.find(
    (f) =>
      kindOf(f.fault.type).family === "network" &&
      "role" in f.fault &&
      (f.fault.role === role || f.fault.role === "all"),
  );
  if (!hit) return undefined;
  const given = role === "app" ? profile.app?.listeners : profile.listeners?.[role];
  const use = role === "producer" ? "producer" : "app";
  const listeners = given ?? (isLocalStack(brokers) ? local(use) : []);
  const field = role === "app" ? "app.listeners" : `listeners.${role}`;
  const who = role === "app" ? "the app" : `the librdkafka ${role}`;
  if (listeners.length === 0) {
    throw new UsageError(
      `--fault ${hit.label}: a network fault on ${who} needs one extra listener per broker advertised at a proxy address (${field}; the local stack has them once restarted with \`npm run stack:down && npm run stack:up\`)${role === "app" ? "; crash-app, stop-app and pause-app need none" : ""}`,
    );
  }
  const ids = new Set(listeners.map((l) => l.broker));
  const missing = brokers.filter((b) => !ids.has(b.nodeId)).map((b) => `broker ${b.nodeId}`);
  if (missing.length > 0) {
    throw new UsageError(`${field}: none for ${missing.join(", ")}; give one per broker`);
  }
  return listeners;
}

/** The brokers' listeners as the upstreams of the role's proxies. */
export function listenerUpstreams(listeners: Listener[]): Broker[] {
  return listeners.map((l) => {
    const i = l.upstream.lastIndexOf(":");
    return {
      nodeId: l.broker,
      host: l.upstream.slice(0, i),
      port: Number(l.upstream.slice(i + 1)),
    };
  });
}
