import { UsageError } from "../errors.js";
import { kindOf } from "../faults/kinds.js";
import type { Broker } from "../faults/proxies.js";
import type { ScheduledFault } from "../faults/schedule.js";
import type { AppSettings } from "../profiles/schema.js";
import { localAppListeners } from "../stack/nodes.js";
import { isLocalStack } from "../run/brokers.js";

export type AppListener = NonNullable<AppSettings["listeners"]>[number];

/**
 * The brokers' app listeners, when network faults hit the app (role app or all): the profile's
 * app.listeners, else the local stack's. A client without kafkajs's socketFactory (Java,
 * librdkafka, Go) can only be routed through proxies by the brokers themselves: each advertises
 * an extra listener at the address of its proxy. Undefined when no fault needs them.
 */
export function appListeners(
  settings: AppSettings,
  schedule: ScheduledFault[],
  brokers: Broker[],
): AppListener[] | undefined {
  const hit = schedule.find(
    (f) =>
      kindOf(f.fault.type).family === "network" &&
      "role" in f.fault &&
      (f.fault.role === "app" || f.fault.role === "all"),
  );
  if (!hit) return undefined;
  const listeners = settings.listeners ?? (isLocalStack(brokers) ? localAppListeners() : []);
  if (listeners.length === 0) {
    throw new UsageError(
      `--fault ${hit.label}: a network fault on the app needs one extra listener per broker advertised at a proxy address (app.listeners; the local stack has them once restarted with \`npm run stack:down && npm run stack:up\`); crash-app, stop-app and pause-app need none`,
    );
  }
  const ids = new Set(listeners.map((l) => l.broker));
  const missing = brokers.filter((b) => !ids.has(b.nodeId)).map((b) => `broker ${b.nodeId}`);
  if (missing.length > 0) {
    throw new UsageError(`app.listeners: none for ${missing.join(", ")}; give one per broker`);
  }
  return listeners;
}
