import { appRestartKind, type AppRestartFault } from "./instance.js";

export type StopAppFault = AppRestartFault<"stop-app">;

/** A graceful stop (SIGTERM) of an instance of the user's app, started again after `restart`. */
export const stopApp = appRestartKind<StopAppFault>({
  type: "stop-app",
  summary: "SIGTERM of an instance of the user's app (a graceful stop), restarted after `restart`",
  // Not awaited: the stop takes up to app.stopTimeout and the nemesis must go on meanwhile.
  takeDown: (apps, instance, restart) => void apps.stop(instance, restart).catch(() => {}),
});
