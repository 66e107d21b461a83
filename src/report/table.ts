import chalk from "chalk";
import Table from "cli-table3";
import type { Report } from "./report.js";

const HOP_TITLES: Record<string, string> = {
  "producer-broker": "producer → broker",
  "broker-storage": "broker storage",
  "broker-consumer": "broker → consumer",
  "processor-output": "processor → output",
  "consumer-sink": "consumer → sink",
  "end-to-end": "end to end",
};

/** The terminal report: one row per hop, anomalies in red where the profile forbids them. */
export function renderTable(report: Report): string {
  const table = new Table({
    head: [
      "hop",
      "in",
      "out",
      "lost",
      "lost acked",
      "lost unacked",
      "duplicated",
      "reordered",
      "aborted reads",
      "ok",
    ].map((h) => chalk.bold(h)),
    // cli-table3 colours borders even into a pipe; follow chalk, which knows when not to.
    style: { head: [], border: chalk.level > 0 ? ["grey"] : [] },
  });
  for (const hop of report.hops) {
    const bad = (n: number, allowed: boolean) =>
      n > 0 && !allowed ? chalk.red(String(n)) : String(n);
    table.push([
      HOP_TITLES[hop.name] ?? hop.name,
      String(hop.in),
      String(hop.out),
      bad(hop.lost, hop.allowed.loss !== "none"),
      bad(hop.lostAcked, false),
      bad(hop.lostUnacked, hop.allowed.loss !== "none"),
      bad(hop.duplicated, hop.allowed.duplicates),
      bad(hop.reordered, hop.allowed.reorder),
      bad(hop.abortedReads, false),
      hop.ok ? chalk.green("✓") : chalk.red("✗"),
    ]);
  }
  const m = report.messages;
  const lines = [
    `${chalk.bold("kafka-chaos")} run ${report.runId}  profile ${report.profile} (claims ${report.claims})  seed ${report.seed}`,
    `messages: ${m.attempted} attempted, ${m.acked} acked, ${m.failed} failed, ${m.unknown} unknown` +
      `  ${timingText(report)}`,
    ...(report.clients ? [clientsLine(report.clients)] : []),
    `faults: ${
      report.faults.length === 0
        ? "none"
        : report.faults
            .map(
              (f) =>
                `${f.type} on ${f.target} ${ms(f.startMs)}–${f.endMs === null ? "?" : ms(f.endMs)}`,
            )
            .join("; ")
    }`,
    ...processorLines(report),
    table.toString(),
  ];
  // The same drain is behind every output hop: say it once.
  const visible = Math.max(0, ...report.hops.map((h) => h.abortedVisible));
  if (visible > 0) {
    lines.push(
      `read_uncommitted drain saw ${visible} aborted record(s) (expected: aborts happened; ` +
        `read_committed readers must not see them)`,
    );
  }
  lines.push(...visibleLossNotes(report));
  for (const v of report.violations) {
    const ids = v.examples.length > 0 ? ` e.g. ${v.examples.join(", ")}` : "";
    lines.push(chalk.red(`✗ ${v.hop}: ${v.count} = ${v.value}, must be 0${ids}`));
  }
  lines.push(...errorLines(report));
  for (const w of report.warnings) lines.push(chalk.yellow(`! ${w}`));
  for (const f of report.liveness?.findings ?? []) {
    lines.push(chalk.yellow(`liveness (${report.liveness!.client}): ${f}`));
  }
  lines.push(verdictLine(report));
  return lines.join("\n");
}

/**
 * One note per hop whose acked messages a tail reader saw and the final drain no longer has
 * at that offset (broker-storage): the proof that a leader change truncated the log.
 */
export function visibleLossNotes(report: Report): string[] {
  return report.hops
    .filter((h) => (h.lostAfterVisible ?? 0) > 0)
    .map((h) => {
      const shown = (h.lostAfterVisibleExamples ?? []).slice(0, VISIBLE_SHOWN);
      const where = shown
        .map((e) => `${e.id} at partition ${e.partition} offset ${e.offset}, seen at ${ms(e.time)}`)
        .join("; ");
      return (
        `${h.name}: ${h.lostAfterVisible} acked message(s) lost after being visible` +
        (where ? ` (e.g. ${where})` : "")
      );
    });
}

const VISIBLE_SHOWN = 3;

/** The last line; a pass with relaxed checks is never shown as a plain pass. */
export function verdictLine(report: Report): string {
  if (report.verdict === "violation") return chalk.red.bold("verdict: VIOLATION");
  const relaxed = report.relaxed ?? [];
  if (relaxed.length > 0) {
    const what = relaxed.map((r) => `${r.count} at ${r.hop}`).join(", ");
    return chalk.yellow.bold(
      `verdict: PASS WITH RELAXED CLAIM — ${report.claims} held except what the profile relaxed (${what})`,
    );
  }
  return chalk.green.bold(`verdict: PASS — every check of the claim ${report.claims} held`);
}

/** Failed and unknown sends by error, most messages first. */
function errorLines(report: Report): string[] {
  const errors = report.errors ?? [];
  if (errors.length === 0) return [];
  const shown = errors
    .slice(0, ERRORS_SHOWN)
    .map(
      (e) =>
        `  ${e.outcome.padEnd(7)} ${e.messages} message(s) in ${e.sends} send(s): ${e.cause ?? e.error}` +
        (e.addresses?.length ? ` (at ${e.addresses.join(", ")})` : ""),
    );
  const more =
    errors.length > ERRORS_SHOWN
      ? [`  … ${errors.length - ERRORS_SHOWN} more in the JSON report`]
      : [];
  return ["send errors:", ...shown, ...more];
}

const ERRORS_SHOWN = 5;

function processorLines(report: Report): string[] {
  const p = report.processor;
  if (!p) return [];
  const lines = report.app
    ? [
        `app: ${report.app.command} — ${p.workers.length} process(es) started, ${p.processed} record(s) written`,
        `app logs: ${report.app.logs.join(", ")}`,
      ]
    : [
        `processor: ${p.workers.length} worker process(es) started, ${p.processed} processed, ${p.aborted} aborted, ` +
          `${p.unknown} unknown`,
      ];
  if (p.crashes.length > 0) {
    const crashes = p.crashes.map(
      (c) =>
        `${c.worker}${c.point === null ? "" : ` ${c.point}`} at ${ms(c.time)}` +
        (c.error ? ` [${c.call ? `${c.call}: ` : ""}${c.error}]` : ""),
    );
    lines.push(`crashes: ${p.crashes.length} (${crashes.join("; ")})`);
  }
  return lines;
}

function clientsLine(c: NonNullable<Report["clients"]>): string {
  const processor = c.processor ? `, processor ${c.processor}` : "";
  return `clients: producer ${c.producer}${processor}; read back by ${c.reader} (cross-checked)`;
}

const ms = (n: number): string => `${(n / 1000).toFixed(1)}s`;

/** `in 47.6s (producing 4.2s, catch-up 43.4s)`: a slow catch-up is not a slow producer. */
function timingText(report: Report): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const t = report.timings;
  if (!t) return `in ${s(report.durationMs)}`;
  const parts = [`producing ${s(t.producingMs)}`];
  if (t.catchUpMs !== null) parts.push(`catch-up ${s(t.catchUpMs)}`);
  return `in ${s(t.totalMs)} (${parts.join(", ")})`;
}
