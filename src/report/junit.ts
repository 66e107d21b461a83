import type { Report } from "./report.js";

/**
 * JUnit XML for CI: one test suite per run (named after the profile), one test case per hop.
 * A hop whose expectations failed is a <failure> carrying the counts and example message ids.
 */
export function renderJunit(reports: Report[]): string {
  const suites = reports.map(suite).join("\n");
  const tests = reports.reduce((n, r) => n + r.hops.length, 0);
  const failures = reports.reduce((n, r) => n + r.hops.filter((h) => !h.ok).length, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kafka-chaos" tests="${tests}" failures="${failures}">`,
    suites,
    "</testsuites>",
    "",
  ].join("\n");
}

function suite(report: Report): string {
  const failures = report.hops.filter((h) => !h.ok).length;
  const cases = report.hops.map((hop) => {
    const name = attr(`${report.profile}: ${hop.name}`);
    const head = `    <testcase classname="kafka-chaos.${attr(report.profile)}" name="${name}" time="${seconds(report.durationMs)}">`;
    const found = report.violations.filter((v) => v.hop === hop.name);
    if (found.length === 0) return `${head}</testcase>`;
    const message = found.map((v) => `${v.count} = ${v.value}, must be 0`).join("; ");
    const detail = found
      .map(
        (v) =>
          `${v.count} = ${v.value}${v.examples.length ? ` (e.g. ${v.examples.join(", ")})` : ""}`,
      )
      .join("\n");
    return `${head}\n      <failure message="${attr(message)}" type="violation">${text(detail)}</failure>\n    </testcase>`;
  });
  const props = [
    ["runId", report.runId],
    ["seed", String(report.seed)],
    ["claims", report.claims],
    ["verdict", report.verdict],
    ...(report.relaxed ?? []).map((r) => ["relaxed", `${r.count} at ${r.hop}: ${r.reason}`]),
  ]
    .map(([k, v]) => `      <property name="${k}" value="${attr(v ?? "")}"/>`)
    .join("\n");
  return [
    `  <testsuite name="${attr(report.profile)}" tests="${report.hops.length}" failures="${failures}" time="${seconds(report.durationMs)}" timestamp="${attr(report.startedAt)}">`,
    `    <properties>\n${props}\n    </properties>`,
    ...cases,
    "  </testsuite>",
  ].join("\n");
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function text(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function attr(s: string): string {
  return text(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;");
}
