/**
 * The local stack's routed listeners (APP: the user's app or the librdkafka processor; PRODUCER:
 * the librdkafka producer), in slots. Each slot of a broker advertises its own proxy addresses,
 * so each run at once leases a slot of its own for its life and puts its proxies there.
 */
import { APP_LISTENER, hasListener, kafkaNodes, listenerName, PRODUCER_LISTENER } from "./kafka.js";
import { takeLease, type Lease } from "./leases.js";
import {
  appListenerPort,
  appProxyPort,
  HOST,
  LISTENER_SLOTS,
  producerListenerPort,
  producerProxyPort,
} from "./paths.js";
import { readState } from "./stack.js";

export type ListenerUse = "app" | "producer";

/** Per broker: the address its listener advertises (a run's proxy) and the one it listens on. */
export interface LocalListener {
  broker: number;
  proxy: string;
  upstream: string;
}

/** Slot `slot` of the stack's listeners for `use`; empty when the stack does not have it. */
export function localListeners(use: ListenerUse, slot = 0): LocalListener[] {
  const state = readState();
  if (!state) return [];
  const nodes = kafkaNodes(state.brokers);
  const name = listenerName(use === "app" ? APP_LISTENER : PRODUCER_LISTENER, slot);
  if (!nodes.every((n) => hasListener(n, name))) return [];
  const [listen, proxy] =
    use === "app" ? [appListenerPort, appProxyPort] : [producerListenerPort, producerProxyPort];
  return nodes.map((n) => ({
    broker: n.nodeId,
    proxy: `${HOST}:${proxy(n.nodeId, slot)}`,
    upstream: `${HOST}:${listen(n.nodeId, slot)}`,
  }));
}

export const slotLease = (use: ListenerUse, slot: number): string => `listeners-${use}-${slot}`;

/**
 * Leases the first free slot of the stack's `use` listeners for this process: its listeners and
 * the lease's name, or, when every slot is held by a live run, the holders.
 */
export function leaseListeners(
  use: ListenerUse,
  holder: string,
): { lease: string; listeners: LocalListener[] } | { held: Lease[] } {
  const held: Lease[] = [];
  for (let slot = 0; slot < LISTENER_SLOTS; slot += 1) {
    const listeners = localListeners(use, slot);
    if (listeners.length === 0) break;
    const lease = slotLease(use, slot);
    const holding = takeLease(lease, holder);
    if (!holding) return { lease, listeners };
    held.push(holding);
  }
  return { held };
}
