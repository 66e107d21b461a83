import type { ProcessFaultOf } from "../fault.js";
import type { FaultKind } from "../kind.js";
import { appsOf, instanceProblem } from "./instance.js";

export type PauseAppFault = ProcessFaultOf<
  "pause-app",
  {
    /** app instance, 0-based */
    instance: number;
  }
>;

/**
 * SIGSTOP of an instance of the user's app for `for`, then SIGCONT: longer than its session
 * timeout, it wakes up as a zombie whose partitions have moved on.
 */
export const pauseApp: FaultKind<PauseAppFault> = {
  type: "pause-app",
  family: "process",
  summary: "SIGSTOP of an instance of the user's app for `for`: a zombie when it wakes up",
  keys: ["at", "for", "repeat", "every"],
  params: { instance: "slot" },
  defaults: { instance: 0 },
  defaultDuration: 10_000,
  needs: ["apps"],
  defaultEvery: (duration) => 2 * duration,
  fits: (fault, profile) => instanceProblem(fault.type, fault.params.instance, profile),
  async prepare(fault, ports) {
    const apps = appsOf(ports, fault.type);
    const { instance } = fault.params;
    return {
      target: `app ${instance}`,
      apply: async () => apps.pause(instance),
      heal: async () => apps.resume(instance),
    };
  },
};
