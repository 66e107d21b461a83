import type { ProcessFaultOf } from "../fault.js";
import type { FaultKind } from "../kind.js";
import { FaultSpecError } from "../params.js";
import { workerProblem, workersOf } from "./worker.js";

/**
 * Where in the processor's loop crash-consumer kills the worker:
 *  - after-commit-before-process: input offsets committed, chunk not yet processed (commit: before);
 *  - after-process-before-commit: output written, offsets not yet committed (commit: after | auto);
 *  - mid-transaction: inside an open transaction, before it commits (commit: transaction);
 *  - after-sink-write-before-commit: the sink's DB transaction committed, offsets not yet
 *    committed to Kafka (a sink, commit: after | auto);
 *  - mid-db-transaction: rows written inside the sink's open DB transaction, before its
 *    COMMIT (a sink);
 *  - random: whenever the schedule says (any commit mode).
 */
export const CRASH_POINTS = [
  "after-commit-before-process",
  "after-process-before-commit",
  "mid-transaction",
  "after-sink-write-before-commit",
  "mid-db-transaction",
  "random",
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export type CrashConsumerFault = ProcessFaultOf<
  "crash-consumer",
  {
    point: CrashPoint;
    /**
     * Deterministic points only: the worker incarnation crashes once it has processed this many
     * messages. Unset: drawn by the schedule (20–60% of the run's messages, divided by workers).
     */
    after?: number;
    /** worker slot, 0-based */
    worker: number;
    /** ms the crashed worker stays down; unset: processor.restartDelayMs */
    restart?: number;
  }
>;

/** Default gap between two repeated crashes (room for restart and rebalance). */
export const DEFAULT_CRASH_EVERY_MS = 10_000;

/** The commit modes a point makes sense with. */
const POINT_COMMITS: Record<CrashPoint, readonly string[]> = {
  "after-commit-before-process": ["before"],
  "after-process-before-commit": ["after", "auto"],
  "mid-transaction": ["transaction"],
  "after-sink-write-before-commit": ["after", "auto"],
  "mid-db-transaction": ["before", "after", "auto"],
  random: ["before", "after", "auto", "transaction"],
};

/** Points inside the sink write: they need a sink. */
const SINK_POINTS: readonly CrashPoint[] = ["after-sink-write-before-commit", "mid-db-transaction"];

/**
 * SIGKILL of a processor worker. At `random` the nemesis kills it when the schedule says; at a
 * deterministic point the worker kills itself there once it has processed `after` messages.
 */
export const crashConsumer: FaultKind<CrashConsumerFault> = {
  type: "crash-consumer",
  family: "process",
  summary: "SIGKILL of a processor worker, at a point of its consume → process → commit loop",
  keys: ["at", "repeat", "every"],
  params: { point: "point", after: "count", worker: "slot", restart: "duration" },
  defaults: { point: "random", worker: 0 },
  instant: true,
  needs: ["workers"],
  defaultEvery: () => DEFAULT_CRASH_EVERY_MS,
  check(fault) {
    const { point, after } = fault.params;
    if (point === "random") {
      if (after !== undefined) {
        throw new FaultSpecError(
          "after",
          `only for a deterministic point (${CRASH_POINTS.filter((p) => p !== "random").join(", ")}); place a random crash with at=`,
        );
      }
    } else if (fault.at !== undefined) {
      throw new FaultSpecError(
        "at",
        `a crash at point ${point} is placed with after=N (messages the worker processed), not at=`,
      );
    }
  },
  selfTriggered: (fault) => fault.params.point !== "random",
  // The schedule drew the start in messages sent (20–60% of the run); each worker processes
  // its share of them, so the count it waits for is divided by the workers.
  workerPlan(fault, placed, run) {
    const drawn = "messages" in placed.start ? placed.start.messages : run.messages / 2;
    return {
      slot: fault.params.worker,
      incarnation: placed.repetition,
      point: fault.params.point,
      after: fault.params.after ?? Math.max(1, Math.floor(drawn / run.workers)),
      ...(fault.params.restart === undefined ? {} : { restartDelayMs: fault.params.restart }),
      label: placed.label,
    };
  },
  startAfter: (fault) => fault.params.after,
  fits(fault, profile) {
    const problem = workerProblem(fault.type, fault.params.worker, profile);
    if (problem) return problem;
    const { point } = fault.params;
    if (SINK_POINTS.includes(point) && profile.sink.type === "none") {
      return {
        key: "point",
        problem: `point ${point} needs a sink (sink.type sqlite or postgres)`,
      };
    }
    const commits = POINT_COMMITS[point];
    const commit = profile.processor.commit;
    if (commits.includes(commit)) return undefined;
    return {
      key: "point",
      problem: `point ${point} needs processor.commit: ${commits.join(" or ")}, got ${commit}`,
    };
  },
  async prepare(fault, ports) {
    const workers = workersOf(ports, fault.type);
    return {
      target: `worker ${fault.params.worker}`,
      apply: async () => workers.kill(fault.params.worker, "random"),
      heal: async () => {},
    };
  },
};
