import { toxicFault } from "./toxic.js";

/** Every response is delayed by latency ± jitter ms. */
export const latency = toxicFault("latency", "downstream");
