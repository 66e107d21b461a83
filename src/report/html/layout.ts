import { escapeHtml, jsonScript, scriptSafe, uplotAssets } from "./assets.js";

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 17px; margin: 28px 0 8px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 600; }
.verdict.pass { background: #2ca02c; } .verdict.violation { background: #d62728; } .verdict.relaxed { background: #e6a700; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: #666; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; background: #fff; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tr.bad td { background: #fde8e8; }
code, .id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
ul.violations li { color: #b00; } ul.warnings li { color: #8a6100; }
.chart { background: #fff; border: 1px solid #e3e3e3; margin: 10px 0; padding: 4px; }
.kc-marks { position: absolute; inset: 0; pointer-events: none; }
.fault-band { position: absolute; top: 0; bottom: 0; background: color-mix(in srgb, var(--c) 14%, transparent); border-left: 1px solid var(--c); border-right: 1px solid var(--c); }
.fault-instant { position: absolute; top: 0; bottom: 0; border-left: 2px dashed var(--c); }
.crash-marker { position: absolute; top: 0; bottom: 0; border-left: 2px dotted #000; }
.mark-label { position: absolute; left: 3px; white-space: nowrap; font-size: 11px; background: rgba(255,255,255,0.85); padding: 0 3px; color: #333; }
.crash-marker .mark-label { bottom: 2px; }
.muted { color: #777; }
`;

/** A whole self-contained page: uPlot, the data and the page's script inline; no network. */
export function htmlPage(title: string, body: string, data: unknown, client: string): string {
  const uplot = uplotAssets();
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${uplot.css}</style>`,
    `<style>${STYLE}</style>`,
    "</head><body><main>",
    body,
    "</main>",
    `<script id="kc-data" type="application/json">${jsonScript(data)}</script>`,
    // uPlot's MIT licence goes with its copy.
    `<!-- uPlot (https://github.com/leeoniya/uPlot)\n${uplot.license.replace(/--/g, "- -")}\n-->`,
    `<script>${scriptSafe(uplot.js)}</script>`,
    `<script>${scriptSafe(client)}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}

/** A table cell: escaped HTML, right-aligned (numbers), or `{ text }`: left-aligned. */
export type Cell = string | { text: string };

/** A table from a header row and rows of cells (already escaped HTML). */
export function htmlTable(
  head: Cell[],
  rows: { cells: Cell[]; className?: string }[],
  attrs = "",
): string {
  const th = (c: Cell) =>
    typeof c === "string" ? `<th>${c}</th>` : `<th class="text">${c.text}</th>`;
  const td = (c: Cell) =>
    typeof c === "string" ? `<td>${c}</td>` : `<td class="text">${c.text}</td>`;
  return [
    `<table${attrs}><thead><tr>${head.map((h) => th(h)).join("")}</tr></thead><tbody>`,
    ...rows.map(
      (r) => `<tr${r.className ? ` class="${r.className}"` : ""}>${r.cells.map(td).join("")}</tr>`,
    ),
    "</tbody></table>",
  ].join("\n");
}
