import type { Report } from "../report.js";
import { escapeHtml as e } from "./assets.js";
import { RUN_CLIENT } from "./client.js";
import { htmlPage, htmlTable } from "./layout.js";
import { faultsDuring, type Timeline } from "./timeline.js";

const HOP_COUNTS = [
  "in",
  "out",
  "lost",
  "lostAcked",
  "lostUnacked",
  "duplicated",
  "abortedReads",
  "reordered",
] as const;

/** What a run's report.html shows; the verdict's exit code is that of `run` and `reconcile`. */
export function renderRunPage(report: Report, timeline: Timeline): string {
  const relaxed = (report.relaxed ?? []).length > 0;
  const verdictClass = report.verdict === "violation" ? "violation" : relaxed ? "relaxed" : "pass";
  const verdictText =
    report.verdict === "pass" && relaxed ? "pass (relaxed claim)" : report.verdict;
  const exitCode = report.verdict === "pass" ? 0 : 1;
  const m = report.messages;
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const body = [
    `<h1>kafka-chaos: ${e(report.profile)} <span class="verdict ${verdictClass}" data-testid="verdict" data-verdict="${report.verdict}">${e(verdictText)}</span></h1>`,
    '<dl class="facts">',
    fact("run", `<code>${e(report.runId)}</code>`, "run-id"),
    fact("profile", e(report.profile), "profile"),
    fact("claim", e(report.claims), "claims"),
    fact("seed", String(report.seed), "seed"),
    fact("exit code", String(exitCode), "exit-code"),
    fact("started", e(report.startedAt), "started"),
    fact("duration", `${seconds(report.durationMs)} s`, "duration"),
    fact(
      "run ended",
      e(report.endReason ?? "no end recorded") + (report.complete ? "" : " (incomplete)"),
      "end",
    ),
    fact(
      "messages",
      [
        `attempted <b data-testid="attempted">${m.attempted}</b>`,
        `acked <b data-testid="acked">${m.acked}</b>`,
        `failed <b data-testid="failed">${m.failed}</b>`,
        `unknown <b data-testid="unknown">${m.unknown}</b>`,
      ].join(", "),
      "messages",
    ),
    report.processor
      ? fact(
          "processor",
          `processed ${report.processor.processed}, aborted ${report.processor.aborted}, unknown ${report.processor.unknown}; workers ${e(report.processor.workers.join(", "))}; crashes ${report.processor.crashes.length}`,
          "processor",
        )
      : "",
    report.clients
      ? fact(
          "clients",
          `producer ${e(report.clients.producer)}${report.clients.processor ? `, processor ${e(report.clients.processor)}` : ""}; read back by ${e(report.clients.reader)} (cross-checked)`,
          "clients",
        )
      : "",
    "</dl>",
    violations(report),
    warnings(report),
    liveness(report),
    "<h2>Timeline</h2>",
    `<p class="muted">Buckets of ${seconds(timeline.bucketMs)} s. Shaded bands: faults (label → target); dashed lines: crashes at a fixed point; dotted lines: worker crashes.</p>`,
    '<div class="chart" id="chart-sends"></div>',
    '<div class="chart" id="chart-latency"></div>',
    report.processor ? '<div class="chart" id="chart-processor"></div>' : "",
    faultTable(report, seconds),
    "<h2>Hops</h2>",
    htmlTable(
      ["hop", ...HOP_COUNTS, "allowed loss", "duplicates allowed", "ok"],
      report.hops.map((h) => ({
        className: h.ok ? undefined : "bad",
        cells: [
          e(h.name),
          ...HOP_COUNTS.map((c) => String(h[c])),
          e(h.allowed.loss),
          h.allowed.duplicates ? "yes" : "no",
          h.ok ? "✔" : "✘",
        ],
      })),
      ' id="hops"',
    ),
    anomalies(report, timeline, seconds),
    errors(report),
  ].join("\n");
  const data = {
    durationMs: report.durationMs,
    faults: report.faults,
    crashes: report.processor?.crashes ?? [],
    timeline: { ...timeline, sentAt: undefined, doneAt: undefined },
  };
  return htmlPage(`kafka-chaos ${report.profile}: ${verdictText}`, body, data, RUN_CLIENT);
}

function fact(name: string, value: string, id: string): string {
  return `<dt>${name}</dt><dd data-testid="${id}">${value}</dd>`;
}

function violations(report: Report): string {
  if (report.violations.length === 0) return "";
  return [
    "<h2>Violations</h2>",
    '<ul class="violations" id="violations">',
    ...report.violations.map(
      (v) =>
        `<li><b>${e(v.hop)}</b>: ${e(v.count)} = ${v.value}, must be 0${v.examples.length ? ` (e.g. ${v.examples.map((id) => `<span class="id">${e(id)}</span>`).join(", ")})` : ""}</li>`,
    ),
    "</ul>",
  ].join("\n");
}

function warnings(report: Report): string {
  if (report.warnings.length === 0) return "";
  return [
    "<h2>Warnings</h2>",
    '<ul class="warnings" id="warnings">',
    ...report.warnings.map((w) => `<li>${e(w)}</li>`),
    "</ul>",
  ].join("\n");
}

/** Findings about the processor's client, apart from the verdict. */
function liveness(report: Report): string {
  if (!report.liveness) return "";
  return [
    `<h2>Liveness of ${e(report.liveness.client)}</h2>`,
    '<ul class="warnings" id="liveness">',
    ...report.liveness.findings.map((f) => `<li>${e(f)}</li>`),
    "</ul>",
  ].join("\n");
}

function faultTable(report: Report, seconds: (ms: number) => string): string {
  const crashes = report.processor?.crashes ?? [];
  if (report.faults.length === 0 && crashes.length === 0) return "<p>No faults.</p>";
  return [
    "<h2>Faults</h2>",
    htmlTable(
      ["fault", { text: "target" }, "start (s)", "end (s)"],
      [
        ...report.faults.map((f) => ({
          cells: [
            e(f.type),
            { text: e(f.target) },
            seconds(f.startMs),
            f.endMs === null ? "never stopped" : seconds(f.endMs),
          ],
        })),
        ...crashes.map((c) => ({
          cells: [
            `worker crash`,
            `worker ${e(c.worker)}${c.point ? ` at ${e(c.point)}` : ""}`,
            seconds(c.time),
            "",
          ],
        })),
      ],
      ' id="faults"',
    ),
  ].join("\n");
}

/**
 * Each example message id of the report, once: the counts it is an example of, when it was
 * sent, when the send got its outcome, and the faults active in between.
 */
function anomalies(report: Report, timeline: Timeline, seconds: (ms: number) => string): string {
  const seen = new Map<string, { where: Map<string, string[]>; bad: boolean }>();
  for (const h of report.hops) {
    for (const [count, ids] of Object.entries(h.examples)) {
      for (const id of ids) {
        const entry = seen.get(id) ?? { where: new Map<string, string[]>(), bad: false };
        const counts = entry.where.get(h.name) ?? [];
        counts.push(count);
        entry.where.set(h.name, counts);
        const violated = report.violations.some((v) => v.hop === h.name && v.count === count);
        entry.bad ||= violated;
        seen.set(id, entry);
      }
    }
  }
  if (seen.size === 0) {
    return "<h2>Anomalies</h2><p>None: no message lost, duplicated or out of place.</p>";
  }
  const rows = [...seen].map(([id, { where, bad }]) => {
    const sent = timeline.sentAt[id];
    const done = timeline.doneAt[id];
    const during = sent === undefined ? [] : faultsDuring(report, sent, done ?? report.durationMs);
    return {
      className: bad ? "bad" : undefined,
      cells: [
        `<span class="id" data-id="${e(id)}">${e(id)}</span>`,
        {
          text: [...where].map(([hop, counts]) => `${e(hop)}: ${e(counts.join(", "))}`).join("; "),
        },
        sent === undefined ? "—" : seconds(sent),
        sent === undefined ? "—" : done === undefined ? "none" : seconds(done),
        { text: sent === undefined ? "" : e(during.join(", ") || "none") },
      ],
    };
  });
  return [
    "<h2>Anomalies</h2>",
    '<p class="muted">The example message ids (producer:sequence; up to 10 per count and hop, totals in the hop table). Sent: the invoke of the batch that carried it; outcome: when that send got an answer; the faults active in between. Red: an example of a violation.</p>',
    htmlTable(
      [
        "example id",
        { text: "example of" },
        "sent (s)",
        "outcome (s)",
        { text: "faults while in flight" },
      ],
      rows,
      ' id="anomalies"',
    ),
  ].join("\n");
}

function errors(report: Report): string {
  const list = report.errors ?? [];
  if (list.length === 0) return "<h2>Send errors</h2><p>No failed or unknown sends.</p>";
  return [
    "<h2>Send errors</h2>",
    htmlTable(
      ["outcome", { text: "cause" }, { text: "addresses" }, "sends", "messages"],
      list.map((g) => ({
        cells: [
          e(g.outcome),
          { text: e(g.cause ?? g.error) },
          { text: e((g.addresses ?? []).join(", ")) },
          String(g.sends),
          String(g.messages),
        ],
      })),
      ' id="errors"',
    ),
  ].join("\n");
}
