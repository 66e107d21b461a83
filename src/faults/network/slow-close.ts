import type { NetworkFaultOf } from "../fault.js";
import { networkKind } from "./network.js";
import { toxicAction } from "./toxic.js";

/** ms */
export type SlowCloseFault = NetworkFaultOf<"slow-close", { delay: number }>;

/** Closing a connection takes `delay` ms longer than it should. */
export const slowClose = networkKind<SlowCloseFault>({
  type: "slow-close",
  summary: "closing a connection takes delay longer",
  params: { delay: "duration" },
  defaults: { delay: 1000 },
  action: toxicAction("slow_close", "downstream"),
});
