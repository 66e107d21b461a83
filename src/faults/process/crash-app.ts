import { appRestartKind, type AppRestartFault } from "./instance.js";

export type CrashAppFault = AppRestartFault<"crash-app">;

/** SIGKILL of an instance of the user's app, started again after `restart`. */
export const crashApp = appRestartKind<CrashAppFault>({
  type: "crash-app",
  summary: "SIGKILL of an instance of the user's app, restarted after `restart`",
  takeDown: (apps, instance, restart) => apps.kill(instance, restart),
});
