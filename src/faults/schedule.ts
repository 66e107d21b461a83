/**
 * The seeded fault schedule: turns fault specs into concrete start/stop points. Pure.
 * A fault without `at` starts somewhere in the middle of the run (20%–60%), drawn from a
 * PRNG seeded with the run's seed, so the same seed replays the same schedule.
 *
 * A crash-consumer at a deterministic point (anything but `random`) is not started by the
 * nemesis: the worker kills itself at that point once it has processed enough messages, so its
 * start counts *processed* messages (see ScheduledFault.trigger).
 */
import { UsageError } from "../errors.js";
import type { Fault } from "./fault.js";
import { kindOf } from "./kinds.js";
import { mulberry32 } from "../random.js";

/** A point in the run: ms after start, or `plusMs` after the N-th message was sent. */
export type ScheduleTime = { ms: number } | { messages: number; plusMs: number };

export interface ScheduledFault {
  /** Position of the fault in the list given to planSchedule. */
  index: number;
  /** 0-based repetition of that fault. */
  repetition: number;
  /** `drop-acks#1`, or `drop-acks#1.2` for the 2nd repetition of a repeated fault. */
  label: string;
  fault: Fault;
  /**
   * Who starts the fault, and so what a `{ messages }` start counts:
   *  - nemesis: the run, once the producers have *sent* that many messages (plus plusMs);
   *  - worker: a crash-consumer at a deterministic point, carried out by the worker itself once
   *    its incarnation has *processed* that many messages. Repetition r crashes incarnation r;
   *    plusMs is always 0. start.messages is `after` when given, else a draw of 20–60% of the
   *    run's messages, which the runner divides by processor.workers.
   */
  trigger: "nemesis" | "worker";
  start: ScheduleTime;
  /**
   * When the fault heals. Crash faults are instants: for crash-consumer stop equals start;
   * for crash-producer stop is when the frozen zombie is resumed (start + for).
   */
  stop: ScheduleTime;
}

export interface ScheduleOptions {
  seed: number;
  /**
   * Messages the run sends. When given, starts that must be drawn are message counts, which
   * land mid-run however fast the run goes; pass only expectedDurationMs for time-bound runs.
   */
  messages?: number;
  /** Expected run length; used to draw start times when messages is not given. */
  expectedDurationMs?: number;
}

const EARLIEST = 0.2;
const LATEST = 0.6;

export { mulberry32 };

/**
 * One entry per repetition, in list order (fault by fault, repetition by repetition).
 * One number is drawn per fault, used or not, so a fault's draw depends only on its position.
 */
export function planSchedule(faults: readonly Fault[], options: ScheduleOptions): ScheduledFault[] {
  const random = mulberry32(options.seed);
  return faults.flatMap((fault, index) => {
    const draw = random();
    const trigger = triggerOf(fault);
    const first = firstStart(fault, options, draw, index);
    return Array.from({ length: fault.repeat }, (_, repetition): ScheduledFault => {
      const start = later(first, trigger === "worker" ? 0 : repetition * fault.every);
      const label = labelOf(fault, index, repetition);
      const stop = later(start, fault.duration);
      return { index, repetition, label, fault, trigger, start, stop };
    });
  });
}

function triggerOf(fault: Fault): ScheduledFault["trigger"] {
  return kindOf(fault.type).selfTriggered?.(fault) ? "worker" : "nemesis";
}

function firstStart(
  fault: Fault,
  options: ScheduleOptions,
  draw: number,
  index: number,
): ScheduleTime {
  if (fault.at) return later(fault.at, 0);
  const after = kindOf(fault.type).startAfter?.(fault);
  if (after !== undefined) return { messages: after, plusMs: 0 };
  const { messages, expectedDurationMs } = options;
  if (messages !== undefined && messages > 0)
    return { messages: middle(messages, draw), plusMs: 0 };
  if (expectedDurationMs !== undefined && expectedDurationMs > 0) {
    return { ms: middle(expectedDurationMs, draw) };
  }
  throw new UsageError(
    `${labelOf(fault, index, 0)}: no at= given and no run length to place it in`,
  );
}

function middle(total: number, draw: number): number {
  return Math.floor(total * (EARLIEST + (LATEST - EARLIEST) * draw));
}

function later(
  time: { ms: number } | { messages: number; plusMs?: number },
  ms: number,
): ScheduleTime {
  if ("ms" in time) return { ms: time.ms + ms };
  return { messages: time.messages, plusMs: (time.plusMs ?? 0) + ms };
}

function labelOf(fault: Fault, index: number, repetition: number): string {
  const suffix = fault.repeat > 1 ? `.${repetition + 1}` : "";
  return `${fault.type}#${index + 1}${suffix}`;
}
