import type { FaultAction } from "./index.js";

/** The proxy is disabled: open connections are closed and new ones refused until it heals. */
export const cutConnection: FaultAction = {
  start: (proxy) =>
    proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream }),
  stop: (proxy) => proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream }),
};
