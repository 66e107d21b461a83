import { toxicFault } from "./toxic.js";

/** Closing a connection takes `delay` ms longer than it should. */
export const slowClose = toxicFault("slow_close", "downstream");
