/** What the app faults share: they hit one instance of the user's own program. */
import type { FaultProblem, Ports, ProfileView } from "../kind.js";
import type { AppControl } from "../ports.js";

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
