/**
 * The shrinker: from a case that breaks the claim, a smaller one that still does. Greedy, as
 * property-based testing shrinks: try each single step that makes the case smaller, keep the
 * first that still fails, start again from it; stop when no step keeps it failing (a local
 * minimum) or when the budget is spent. Every step strictly shrinks a measure that cannot
 * shrink forever (fewer faults, shorter or earlier ones, fewer messages, workers, partitions,
 * a lower rate), so the search ends.
 */
import type { Fault, FaultAt } from "../faults/spec.js";
import { formatFault, toFault } from "../faults/spec.js";
import type { Profile } from "../profiles/schema.js";
import { caseProblem, type Case } from "./case.js";

export interface Step {
  /** what the step does, e.g. `drop kill-broker:at=6s` or `messages 30000 → 15000` */
  label: string;
  next: Case;
}

/** Floors below which a knob is not cut further. */
export const FLOORS = { messages: 500, durationMs: 200, atMs: 100, atMessages: 10, rate: 100 };

/** Every single step from the case that still fits the profile, most shrinking first. */
export function stepsFrom(profile: Profile, c: Case): Step[] {
  const steps = [
    ...c.faults.map((f, i) =>
      step(`drop ${formatFault(f)}`, { ...c, faults: without(c.faults, i) }),
    ),
    ...messageSteps(c),
    ...c.faults.flatMap((f, i) => faultSteps(f).map((s) => replaceFault(c, i, f, s))),
    ...knobSteps(c),
  ];
  return steps.filter((s) => s.next !== c && !caseProblem(profile, s.next));
}

function step(label: string, next: Case): Step {
  return { label, next };
}

function without<T>(items: readonly T[], index: number): T[] {
  return items.filter((_, i) => i !== index);
}

/** Half the messages; faults placed by message count move with them, to the same share. */
function messageSteps(c: Case): Step[] {
  const messages = Math.floor(c.messages / 2);
  if (messages < FLOORS.messages) return [];
  const faults = c.faults.map((f) => scaleByMessages(f, messages / c.messages));
  return [step(`messages ${c.messages} → ${messages}`, { ...c, messages, faults })];
}

function scaleByMessages(fault: Fault, factor: number): Fault {
  const scaled = (n: number) => Math.max(1, Math.floor(n * factor));
  const at: FaultAt | undefined =
    fault.at && "messages" in fault.at ? { messages: scaled(fault.at.messages) } : fault.at;
  const params = fault.params as Record<string, unknown>;
  const after = typeof params.after === "number" ? { after: scaled(params.after) } : {};
  return rebuilt(fault, { ...(at ? { at } : {}), params: { ...params, ...after } });
}

/** A fault, shorter or earlier: the steps that shrink one fault. */
function faultSteps(fault: Fault): { label: string; fault: Fault }[] {
  const out: { label: string; fault: Fault }[] = [];
  const half = Math.floor(fault.duration / 2 / 100) * 100;
  if (fault.duration > 0 && half >= FLOORS.durationMs) {
    out.push({ label: "shorter", fault: rebuilt(fault, { duration: half, every: 2 * half }) });
  }
  const earlier = earlierAt(fault.at);
  if (earlier) out.push({ label: "earlier", fault: rebuilt(fault, { at: earlier }) });
  const after = (fault.params as Record<string, unknown>).after;
  if (typeof after === "number" && after >= 2 * FLOORS.atMessages) {
    const params = { ...fault.params, after: Math.floor(after / 2) };
    out.push({ label: "earlier", fault: rebuilt(fault, { params }) });
  }
  return out;
}

function earlierAt(at: FaultAt | undefined): FaultAt | undefined {
  if (!at) return undefined;
  if ("ms" in at) {
    const ms = Math.floor(at.ms / 2 / 100) * 100;
    return ms >= FLOORS.atMs ? { ms } : undefined;
  }
  const messages = Math.floor(at.messages / 2);
  return messages >= FLOORS.atMessages ? { messages } : undefined;
}

function replaceFault(
  c: Case,
  index: number,
  before: Fault,
  changed: { label: string; fault: Fault },
): Step {
  const faults = c.faults.map((f, i) => (i === index ? changed.fault : f));
  return step(`${changed.label}: ${formatFault(before)} → ${formatFault(changed.fault)}`, {
    ...c,
    faults,
  });
}

/** Fewer workers and partitions, a lower rate. */
function knobSteps(c: Case): Step[] {
  const out: Step[] = [];
  if (c.workers > 1) {
    out.push(step(`workers ${c.workers} → ${c.workers - 1}`, { ...c, workers: c.workers - 1 }));
  }
  if (c.partitions > 1) {
    const partitions = Math.ceil(c.partitions / 2);
    out.push(step(`partitions ${c.partitions} → ${partitions}`, { ...c, partitions }));
  }
  const rate = Math.floor(c.rate / 2);
  if (c.rate > 0 && rate >= FLOORS.rate) out.push(step(`rate ${c.rate} → ${rate}`, { ...c, rate }));
  return out;
}

/** The fault with some of its timing or params replaced, checked as a spec would be. */
function rebuilt(
  fault: Fault,
  change: { at?: FaultAt; duration?: number; every?: number; params?: Record<string, unknown> },
): Fault {
  const next = { ...fault, ...change } as Fault;
  // Through the parser: the same checks as a written fault (e.g. every ≥ for).
  return toFault(parseable(next));
}

function parseable(fault: Fault): Record<string, unknown> {
  const { type, at, duration, repeat, every, params, ...placement } = fault as Fault & {
    params: Record<string, unknown>;
  };
  return {
    type,
    ...placement,
    ...(at ? { at: "ms" in at ? `${at.ms}ms` : `${at.messages}msg` } : {}),
    ...(duration > 0 ? { for: duration } : {}),
    repeat,
    every,
    ...params,
  };
}

export interface ShrinkRecord {
  step: string;
  kept: boolean;
  /** the verdicts of the replays this step took (it stops at the first that did not fail) */
  replays: number;
}

export interface ShrinkResult {
  minimal: Case;
  steps: ShrinkRecord[];
  /** `local-minimum`: no single step keeps it failing; `budget`: time ran out first */
  stoppedBy: "local-minimum" | "budget";
  /** the cases kept, from the start to the minimal: where a final check can step back to */
  chain: Case[];
}

/**
 * Shrinks `start`, which fails. `fails(case)` replays a case and says whether it still shows the
 * violation (and how many replays it took); `more()` says whether the budget allows another try.
 */
export async function shrink(
  profile: Profile,
  start: Case,
  fails: (c: Case) => Promise<{ failed: boolean; replays: number }>,
  more: () => boolean = () => true,
): Promise<ShrinkResult> {
  let current = start;
  const steps: ShrinkRecord[] = [];
  const chain = [start];
  for (;;) {
    let kept = false;
    for (const candidate of stepsFrom(profile, current)) {
      if (!more()) return { minimal: current, steps, stoppedBy: "budget", chain };
      const { failed, replays } = await fails(candidate.next);
      steps.push({ step: candidate.label, kept: failed, replays });
      if (failed) {
        current = candidate.next;
        chain.push(current);
        kept = true;
        break;
      }
    }
    if (!kept) return { minimal: current, steps, stoppedBy: "local-minimum", chain };
  }
}
