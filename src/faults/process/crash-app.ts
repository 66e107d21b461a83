import type { ProcessFaultOf } from "../fault.js";
import type { FaultKind } from "../kind.js";
import { appsOf, instanceProblem } from "./instance.js";
import { DEFAULT_CRASH_EVERY_MS } from "./crash-consumer.js";

export type CrashAppFault = ProcessFaultOf<
  "crash-app",
  {
    /** app instance, 0-based */
    instance: number;
    /** ms the instance stays down; unset: app.restartDelay */
    restart?: number;
  }
>;

/** SIGKILL of an instance of the user's app, started again after `restart`. */
export const crashApp: FaultKind<CrashAppFault> = {
  type: "crash-app",
  family: "process",
  summary: "SIGKILL of an instance of the user's app, restarted after `restart`",
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
      apply: async () => apps.kill(instance, restart),
      heal: async () => {},
    };
  },
};
