import type { Relaxation } from "../reconcile/claims.js";
import type {
  ErrorGroup,
  FaultWindow,
  MessageTotals,
  ProcessorSummary,
  Reconciliation,
  UnconfirmedSummary,
} from "../reconcile/reconcile.js";
import type { HopResult, Judgement, Violation } from "../reconcile/verdict.js";
import type { Claim } from "../reconcile/claims.js";

/** Which client library did what: a finding about a client names it. */
export interface Clients {
  producer: string;
  /** the built-in processor's; absent for a producer-only run or the user's own app */
  processor?: string;
  /** the reader of record: the final drains and the tail */
  reader: string;
}

/** What the report says about the run besides what the reconciler found. */
export interface RunFacts {
  runId: string;
  profile: { name: string; claims: Claim };
  seed: number;
  startedAt: string;
  clients?: Clients;
}

/**
 * The version of the JSON report's shape; `schema/report.schema.json` (shipped in the package)
 * describes it. A change that could break a parser raises it.
 */
export const REPORT_SCHEMA_VERSION = 1;

/** The JSON report (design.md): one object per run. */
export interface Report {
  /** the shape's version: `schema/report.schema.json` */
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  runId: string;
  profile: string;
  claims: string;
  seed: number;
  startedAt: string;
  /** the whole run, as `timings.totalMs` */
  durationMs: number;
  /**
   * where the time went, ms from the start: producing (to the last send's outcome), the
   * processor's or app's catch-up after it (null without a processor stage), and the total
   */
  timings: { producingMs: number; catchUpMs: number | null; totalMs: number };
  messages: MessageTotals;
  faults: FaultWindow[];
  hops: HopResult[];
  /** what the processor workers reported; null for a producer-only run */
  processor: ProcessorSummary | null;
  violations: Violation[];
  verdict: "pass" | "violation";
  /**
   * checks the claim implies that the profile relaxed (`relax`), with the reason; a pass with
   * relaxations is not a plain pass of the claim, and every output says so
   */
  relaxed: Relaxation[];
  /** messages the client reported sent that no broker acknowledged: counted as unknown */
  unconfirmed: UnconfirmedSummary;
  /** failed and unknown sends grouped by error, most messages first */
  errors: ErrorGroup[];
  /** true only when the history ends with a completed run (not interrupted, crashed or failed) */
  complete: boolean;
  /** how the history ended: completed, interrupted, error, or null when it just stops (crash) */
  endReason: Reconciliation["endReason"];
  warnings: string[];
  /**
   * what the processor's client did to the pipeline's progress while no fault was active
   * (workers stopped on errors, long pauses): findings about the client, apart from the verdict
   */
  liveness: { client: string; findings: string[] } | null;
  /** the client library of each role (absent for runs from before it was recorded) */
  clients?: Clients;
  /** the user's app that was the processor stage, and its logs (one per started process) */
  app?: { command: string; logs: string[] };
}

export function buildReport(
  info: RunFacts,
  rec: Reconciliation,
  judgement: Judgement,
  warnings: string[] = [],
): Report {
  const all = [
    ...judgement.relaxed.map(relaxWarning),
    ...warnings,
    ...unackedLossWarnings(info, judgement),
  ];
  if (rec.unconfirmed.messages > 0) {
    all.push(unconfirmedWarning(rec.unconfirmed, info.clients?.producer ?? "kafkajs"));
  }
  all.push(...consumerAbortWarnings(info, judgement));
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
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId: info.runId,
    profile: info.profile.name,
    claims: info.profile.claims,
    seed: info.seed,
    startedAt: info.startedAt,
    durationMs: rec.durationMs ?? 0,
    timings: timingsOf(rec),
    messages: rec.messages,
    faults: rec.faults,
    hops: judgement.hops,
    processor: rec.processor,
    violations: judgement.violations,
    verdict: judgement.verdict,
    relaxed: judgement.relaxed,
    unconfirmed: rec.unconfirmed,
    errors: rec.errors,
    complete,
    endReason: rec.endReason,
    warnings: all,
    liveness:
      rec.liveness.length > 0
        ? { client: info.clients?.processor ?? "the processor's client", findings: rec.liveness }
        : null,
    ...(info.clients ? { clients: info.clients } : {}),
  };
}

function timingsOf(rec: Reconciliation): Report["timings"] {
  const totalMs = rec.durationMs ?? 0;
  const producingMs = Math.min(rec.producingMs ?? totalMs, totalMs);
  return {
    producingMs,
    catchUpMs: rec.processor === null ? null : totalMs - producingMs,
    totalMs,
  };
}

/** Aborted reads at broker → consumer are a finding about the consumer's client: name it. */
function consumerAbortWarnings(info: RunFacts, judgement: Judgement): string[] {
  const hop = judgement.hops.find((h) => h.name === "broker-consumer");
  if (!hop || hop.abortedReads === 0) return [];
  const client = info.clients?.processor ?? "the processor's client";
  const reader = info.clients?.reader ?? "the reader of record";
  return [
    `broker → consumer: ${client} handed ${hop.abortedReads} record(s) of aborted transactions to the read_committed processor ` +
      `(${reader} and the raw log with its transaction markers agree they were never committed); ` +
      `what it wrote from them shows at end to end`,
  ];
}

/**
 * Unacked loss passes the acked rule, but a pipeline claiming more than at-most-once only
 * keeps its promise if the application resends what the client gave up on; say so.
 */
function unackedLossWarnings(info: RunFacts, judgement: Judgement): string[] {
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

export function relaxWarning(r: Relaxation): string {
  return `claim relaxed: ${r.count} at ${r.hop} is not checked (${r.reason})`;
}

function unconfirmedWarning(u: UnconfirmedSummary, client: string): string {
  return (
    `${u.messages} message(s) reported sent by the client (${client}) without a broker acknowledgement ` +
    `for partition(s) ${u.partitions.join(", ")}: counted as unknown, not as acked`
  );
}
