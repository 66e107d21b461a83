import { toxicFault } from "./toxic.js";

/**
 * Requests still reach the broker, but nothing comes back: a `timeout` toxic with timeout 0 on
 * the downstream (broker → client) side holds the connection open and drops every response.
 */
export const dropAcks = toxicFault("timeout", "downstream", { timeout: 0 });
