/** What the app faults share: they hit one instance of the user's own program. */
import type { Fault, ProcessFaultOf } from "../fault.js";
import type { FaultKind, FaultProblem, Ports, ProfileView } from "../kind.js";
import type { AppControl } from "../ports.js";
import { DEFAULT_CRASH_EVERY_MS } from "./crash-consumer.js";

/** The profile must have an app with that instance. */
export function instanceProblem(
  type: string,
  instance: number,
  profile: ProfileView,
): FaultProblem | undefined {
  const app = profile.app;
  if (!app) return { key: "type", problem: `${type}: the profile has no app section` };
  if (instance >= app.instances) {
    const problem = `no instance ${instance}: app.instances is ${app.instances} (0-${app.instances - 1})`;
    return { key: "instance", problem };
  }
  return undefined;
}

export function appsOf(ports: Ports, type: string): AppControl {
  if (!ports.apps) throw new Error(`${type}: the run has no app`);
  return ports.apps;
}

/** A fault that takes an app instance down at an instant and starts it again after `restart`. */
export type AppRestartFault<T extends string> = ProcessFaultOf<
  T,
  {
    /** app instance, 0-based */
    instance: number;
    /** ms the instance stays down once it has exited; unset: app.restartDelay */
    restart?: number;
  }
>;

export function appRestartKind<F extends Extract<Fault, { type: "crash-app" | "stop-app" }>>(spec: {
  type: F["type"];
  summary: string;
  takeDown(apps: AppControl, instance: number, restart: number | undefined): void;
}): FaultKind<F> {
  const kind: FaultKind<F> = {
    type: spec.type,
    family: "process",
    summary: spec.summary,
    keys: ["at", "repeat", "every"],
    params: { instance: "slot", restart: "duration" } as FaultKind<F>["params"],
    defaults: { instance: 0 } as F["params"],
    instant: true,
    needs: ["apps"],
    defaultEvery: () => DEFAULT_CRASH_EVERY_MS,
    fits: (fault, profile) => instanceProblem(fault.type, fault.params.instance, profile),
    async prepare(fault, ports) {
      const apps = appsOf(ports, fault.type);
      const { instance, restart } = fault.params;
      return {
        target: `app ${instance}`,
        apply: async () => spec.takeDown(apps, instance, restart),
        heal: async () => {},
      };
    },
  };
  return kind;
}
