import type { NetworkFaultOf } from "../fault.js";
import { networkKind } from "./network.js";
import { toxicAction } from "./toxic.js";

/** `rate` in KB/s */
export type BandwidthFault = NetworkFaultOf<"bandwidth", { rate: number }>;

/** Client → broker traffic limited to `rate` KB/s, so produce requests crawl. */
export const bandwidth = networkKind<BandwidthFault>({
  type: "bandwidth",
  summary: "client → broker traffic limited to rate KB/s",
  params: { rate: "rate" },
  defaults: { rate: 16 },
  action: toxicAction("bandwidth", "upstream"),
});
