import { toxicFault } from "./toxic.js";

/** Every response is delayed by latency ± jitter ms. */
export const latency = toxicFault("latency", "downstream", (f) =>
  f.type === "latency" ? f.params : { latency: 500, jitter: 100 },
);
