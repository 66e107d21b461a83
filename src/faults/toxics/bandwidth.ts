import { toxicFault } from "./toxic.js";

/** Client → broker traffic limited to `rate` KB/s, so produce requests crawl. */
export const bandwidth = toxicFault("bandwidth", "upstream");
