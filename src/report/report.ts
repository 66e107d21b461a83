import type {
  FaultWindow,
  MessageTotals,
  ProcessorSummary,
  Reconciliation,
} from "../reconcile/reconcile.js";
import type { HopResult, Judgement, Violation } from "../reconcile/verdict.js";
import type { RunInfo } from "../run/run-dir.js";

/** The JSON report (design.md): one object per run. */
export interface Report {
  runId: string;
  profile: string;
  claims: string;
  seed: number;
  startedAt: string;
  durationMs: number;
  messages: MessageTotals;
  faults: FaultWindow[];
  hops: HopResult[];
  /** what the processor workers reported; null for a producer-only run */
  processor: ProcessorSummary | null;
  violations: Violation[];
  verdict: "pass" | "violation";
  /** true only when the history ends with a completed run (not interrupted, crashed or failed) */
  complete: boolean;
  /** how the history ended: completed, interrupted, error, or null when it just stops (crash) */
  endReason: Reconciliation["endReason"];
  warnings: string[];
}

export function buildReport(
  info: RunInfo,
  rec: Reconciliation,
  judgement: Judgement,
  warnings: string[] = [],
): Report {
  const all = [...warnings, ...unackedLossWarnings(info, judgement)];
  const complete = rec.endReason === "completed";
  if (!complete) {
    all.push(
      `the run did not complete (${rec.endReason ?? "no end recorded"}): sends without an outcome count as unknown`,
    );
    if (rec.processor !== null) {
      all.push(
        "loss at broker → consumer and end to end is not judged: the processor was stopped early",
      );
    }
  }
  return {
    runId: info.runId,
    profile: info.profile.name,
    claims: info.profile.claims,
    seed: info.seed,
    startedAt: info.startedAt,
    durationMs: rec.durationMs ?? 0,
    messages: rec.messages,
    faults: rec.faults,
    hops: judgement.hops,
    processor: rec.processor,
    violations: judgement.violations,
    verdict: judgement.verdict,
    complete,
    endReason: rec.endReason,
    warnings: all,
  };
}

/**
 * Unacked loss passes the acked rule, but a pipeline claiming more than at-most-once only
 * keeps its promise if the application resends what the client gave up on; say so.
 */
function unackedLossWarnings(info: RunInfo, judgement: Judgement): string[] {
  if (info.profile.claims === "at-most-once") return [];
  return judgement.hops
    .filter((h) => h.lostUnacked > 0 && h.allowed.loss !== "none")
    .map(
      (h) =>
        `${h.name}: ${h.lostUnacked} message(s) lost unacked (the client was told the send failed ` +
        `or timed out); allowed by this profile's expect, but a ${info.profile.claims} ` +
        `application must resend them (e.g. ${h.examples.lostUnacked.slice(0, 3).join(", ")})`,
    );
}
