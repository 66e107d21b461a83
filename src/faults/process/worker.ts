/** What the process faults share: they hit one processor worker slot. */
import type { FaultProblem, Ports, ProfileView } from "../kind.js";
import type { WorkerControl } from "../ports.js";

export const DISABLED = "the pipeline has no processor (processor.enabled is false)";

/** The profile must have a processor with that worker slot. */
export function workerProblem(
  type: string,
  worker: number,
  profile: ProfileView,
): FaultProblem | undefined {
  const p = profile.processor;
  if (!p.enabled) return { key: "type", problem: `${type}: ${DISABLED}` };
  if (worker >= p.workers) {
    const problem = `no worker ${worker}: processor.workers is ${p.workers} (slots 0-${p.workers - 1})`;
    return { key: "worker", problem };
  }
  return undefined;
}

export function workersOf(ports: Ports, type: string): WorkerControl {
  if (!ports.workers) throw new Error(`${type}: the run has no processor workers`);
  return ports.workers;
}
