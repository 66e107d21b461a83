import type { NetworkFaultOf } from "../fault.js";
import { networkKind } from "./network.js";
import { toxicAction } from "./toxic.js";

/** ms */
export type LatencyFault = NetworkFaultOf<"latency", { latency: number; jitter: number }>;

/** Every response is delayed by latency ± jitter ms. */
export const latency = networkKind<LatencyFault>({
  type: "latency",
  summary: "every response delayed by latency ± jitter",
  params: { latency: "duration", jitter: "duration" },
  defaults: { latency: 500, jitter: 100 },
  action: toxicAction("latency", "downstream"),
});
