import fs from "node:fs";
import type { Report } from "./report.js";
import { visibleLossNotes } from "./table.js";

/**
 * In GitHub Actions: a Markdown table in the job's step summary, and one `::error` annotation
 * per violation (printed to stdout, where the runner picks them up).
 */
export function publishToGithub(
  report: Report,
  env: NodeJS.ProcessEnv = process.env,
  stdoutIsJson = false,
): void {
  if (env.GITHUB_STEP_SUMMARY) fs.appendFileSync(env.GITHUB_STEP_SUMMARY, githubSummary(report));
  // Annotations go to stdout, where they would corrupt a JSON report printed there.
  if (env.GITHUB_ACTIONS === "true" && !stdoutIsJson) {
    for (const line of githubAnnotations(report)) process.stdout.write(`${line}\n`);
  }
}

export function githubSummary(report: Report): string {
  const relaxed = (report.relaxed ?? []).length > 0;
  const mark =
    report.verdict === "violation"
      ? "❌ violation"
      : relaxed
        ? "⚠️ pass with relaxed claim"
        : "✅ pass";
  const rows = report.hops.map(
    (h) =>
      `| ${h.name} | ${h.in} | ${h.out} | ${h.lost} | ${h.lostAcked} | ${h.duplicated} | ${h.abortedReads} | ${h.reordered} | ${h.ok ? "✅" : "❌"} |`,
  );
  const faults = report.faults.map((f) => `${f.type} on ${f.target}`).join(", ") || "none";
  return [
    `### kafka-chaos: ${report.profile} — ${mark}`,
    "",
    `Run \`${report.runId}\`, seed ${report.seed}; faults: ${faults}.`,
    "",
    "Timeline, example ids and errors: `report.html` in the run directory (upload it as an artifact).",
    "",
    "| hop | in | out | lost | lost acked | duplicated | aborted reads | reordered | ok |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | :-: |",
    ...rows,
    "",
    ...visibleLossNotes(report).map((n) => `- ${n}`),
    ...report.violations.map(
      (v) =>
        `- **${v.hop}**: ${v.count} = ${v.value}, must be 0${v.examples.length ? ` (e.g. ${v.examples.join(", ")})` : ""}`,
    ),
    ...report.warnings.map((w) => `- ⚠️ ${w}`),
    ...errorRows(report),
    "",
  ].join("\n");
}

function errorRows(report: Report): string[] {
  const errors = report.errors ?? [];
  if (errors.length === 0) return [];
  return [
    "",
    "| send outcome | error | sends | messages |",
    "| --- | --- | --: | --: |",
    ...errors.map(
      (e) => `| ${e.outcome} | ${e.error.replace(/\|/g, "\\|")} | ${e.sends} | ${e.messages} |`,
    ),
  ];
}

export function githubAnnotations(report: Report): string[] {
  return report.violations.map((v) => {
    const ids = v.examples.length > 0 ? ` (e.g. ${v.examples.join(", ")})` : "";
    const message = `${v.hop}: ${v.count} = ${v.value}, must be 0${ids}`;
    return `::error title=${escapeProperty(`kafka-chaos ${report.profile}`)}::${escapeData(message)}`;
  });
}

/** GitHub workflow-command escaping: message data, and property values (also : and ,). */
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
