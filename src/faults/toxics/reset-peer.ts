import { toxicFault } from "./toxic.js";

/** Connections are reset (TCP RST) after `timeout` ms, over and over while the fault lasts. */
export const resetPeer = toxicFault("reset_peer", "upstream");
