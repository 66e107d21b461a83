import type { ProcessFaultOf } from "../fault.js";
import type { FaultKind } from "../kind.js";
import { workerProblem, workersOf } from "./worker.js";

export type CrashProducerFault = ProcessFaultOf<
  "crash-producer",
  {
    /** worker slot, 0-based */
    worker: number;
  }
>;

/**
 * SIGSTOP of a transactional processor worker for `for`, while a replacement with the same
 * transactional id takes over: a zombie that must be fenced when it wakes up.
 */
export const crashProducer: FaultKind<CrashProducerFault> = {
  type: "crash-producer",
  family: "process",
  summary: "a transactional worker frozen (SIGSTOP) while its replacement takes over: a zombie",
  keys: ["at", "for", "repeat", "every"],
  params: { worker: "slot" },
  defaults: { worker: 0 },
  needs: ["workers"],
  defaultEvery: (duration) => 2 * duration,
  fits(fault, profile) {
    const problem = workerProblem(fault.type, fault.params.worker, profile);
    if (problem || profile.processor.commit === "transaction") return problem;
    return {
      key: "type",
      problem: `crash-producer (a zombie transactional producer) needs processor.commit: transaction, got ${profile.processor.commit}`,
    };
  },
  async prepare(fault, ports) {
    const workers = workersOf(ports, fault.type);
    const slot = fault.params.worker;
    return {
      target: `worker ${slot}`,
      apply: async () => workers.freeze(slot),
      heal: async () => workers.thaw(slot),
    };
  },
};
