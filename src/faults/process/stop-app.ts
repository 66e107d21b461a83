import type { ProcessFaultOf } from "../fault.js";
import type { FaultKind } from "../kind.js";
import { appsOf, instanceProblem } from "./instance.js";
import { DEFAULT_CRASH_EVERY_MS } from "./crash-consumer.js";

export type StopAppFault = ProcessFaultOf<
  "stop-app",
  {
    /** app instance, 0-based */
    instance: number;
    /** ms the instance stays down once it has exited; unset: app.restartDelay */
    restart?: number;
  }
>;

/** A graceful stop (SIGTERM) of an instance of the user's app, started again after `restart`. */
export const stopApp: FaultKind<StopAppFault> = {
  type: "stop-app",
  family: "process",
  summary: "SIGTERM of an instance of the user's app (a graceful stop), restarted after `restart`",
  keys: ["at", "repeat", "every"],
  params: { instance: "slot", restart: "duration" },
  defaults: { instance: 0 },
  instant: true,
  needs: ["apps"],
  defaultEvery: () => DEFAULT_CRASH_EVERY_MS,
  fits: (fault, profile) => instanceProblem(fault.type, fault.params.instance, profile),
  async prepare(fault, ports) {
    const apps = appsOf(ports, fault.type);
    const { instance, restart } = fault.params;
    return {
      target: `app ${instance}`,
      // Not awaited: the stop takes up to app.stopTimeout and the nemesis must go on meanwhile.
      apply: async () => void apps.stop(instance, restart).catch(() => {}),
      heal: async () => {},
    };
  },
};
