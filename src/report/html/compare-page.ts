import type { ProduceStats } from "../latency.js";
import type { Report } from "../report.js";
import { escapeHtml as e } from "./assets.js";
import { COMPARE_CLIENT } from "./client.js";
import { htmlPage, htmlTable } from "./layout.js";

export interface CompareEntry {
  report: Report;
  stats: ProduceStats;
  /** the run's own report.html, relative to the comparison's page */
  link: string;
}

/** The comparison of several profiles on one workload: bar charts and a link to each run. */
export function renderComparePage(entries: CompareEntry[], seed: number): string {
  const rows = entries.map(({ report, stats, link }) => {
    const e2e = report.hops.find((h) => h.name === "end-to-end");
    return {
      profile: report.profile,
      throughput: stats.throughput,
      p50Ms: stats.p50Ms,
      p99Ms: stats.p99Ms,
      lost: e2e?.lost ?? 0,
      duplicated: e2e?.duplicated ?? 0,
      violations: report.violations.length,
      verdict: report.verdict,
      link,
    };
  });
  const faults =
    entries[0]?.report.faults.map((f) => `${f.type} on ${f.target}`).join(", ") || "none";
  const hops = [...new Set(entries.flatMap((r) => r.report.hops.map((h) => h.name)))];
  const body = [
    "<h1>kafka-chaos: comparison</h1>",
    `<p>Seed <span data-testid="seed">${seed}</span>; faults: ${e(faults)}.</p>`,
    '<div class="chart" id="chart-throughput"></div>',
    '<div class="chart" id="chart-latency"></div>',
    '<div class="chart" id="chart-anomalies"></div>',
    htmlTable(
      [
        "profile",
        { text: "claim" },
        "msg/s",
        "p50 ms",
        "p99 ms",
        ...hops.map((h) => `${e(h)}<br>lost / dup`),
        "verdict",
        "report",
      ],
      entries.map(({ report, stats, link }) => ({
        className: report.verdict === "violation" ? "bad" : undefined,
        cells: [
          e(report.profile),
          { text: e(report.claims) },
          String(stats.throughput),
          String(stats.p50Ms),
          String(stats.p99Ms),
          ...hops.map((name) => {
            const h = report.hops.find((x) => x.name === name);
            return h ? `${h.lost} / ${h.duplicated}` : "—";
          }),
          `<span data-testid="verdict" data-verdict="${report.verdict}">${e(report.verdict)}</span>`,
          `<a href="${e(link)}">report.html</a>`,
        ],
      })),
      ' id="runs"',
    ),
  ].join("\n");
  return htmlPage("kafka-chaos comparison", body, { seed, rows }, COMPARE_CLIENT);
}
