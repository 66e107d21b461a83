import { UsageError } from "../errors.js";
import { kindOf } from "../faults/kinds.js";
import type { Broker } from "../faults/proxies.js";
import type { ScheduledFault } from "../faults/schedule.js";
import type { AppSettings, Profile } from "../profiles/schema.js";
import { isLocalStack, localAppListeners } from "../stack/nodes.js";

export type Listener = NonNullable<AppSettings["listeners"]>[number];

/** The clients that only brokers can route through proxies, and the listeners they go by. */
export interface Routed {
  role: "app" | "processor";
  /** undefined when no network fault hits the role: its clients then connect directly */
  listeners?: Listener[];
}

/**
 * A client without kafkajs's socket factory (the user's app in any language, the librdkafka
 * engine) can only be routed through proxies by the brokers themselves: each advertises an
 * extra listener at the address of its proxy. Which role needs them, and the listeners when a
 * network fault hits that role: the profile's, else the local stack's.
 */
export function routedListeners(
  profile: Profile,
  schedule: ScheduledFault[],
  brokers: Broker[],
): Routed | undefined {
  const role = profile.app
    ? "app"
    : profile.processor.enabled && profile.client === "librdkafka"
      ? "processor"
      : undefined;
  if (!role) return undefined;
  const hit = schedule.find(
    (f) =>
      kindOf(f.fault.type).family === "network" &&
      "role" in f.fault &&
      (f.fault.role === role || f.fault.role === "all"),
  );
  if (!hit) return { role };
  const given = profile.app?.listeners ?? profile.listeners;
  const listeners = given ?? (isLocalStack(brokers) ? localAppListeners() : []);
  const field = profile.app ? "app.listeners" : "listeners";
  if (listeners.length === 0) {
    throw new UsageError(
      `--fault ${hit.label}: a network fault on the ${role === "app" ? "app" : "librdkafka processor"} needs one extra listener per broker advertised at a proxy address (${field}; the local stack has them once restarted with \`npm run stack:down && npm run stack:up\`)${role === "app" ? "; crash-app, stop-app and pause-app need none" : ""}`,
    );
  }
  const ids = new Set(listeners.map((l) => l.broker));
  const missing = brokers.filter((b) => !ids.has(b.nodeId)).map((b) => `broker ${b.nodeId}`);
  if (missing.length > 0) {
    throw new UsageError(`${field}: none for ${missing.join(", ")}; give one per broker`);
  }
  return { role, listeners };
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
