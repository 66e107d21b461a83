import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * uPlot's script and stylesheet, read from the installed package (a runtime dependency), to be
 * inlined: the report opens without network access.
 */
export function uplotAssets(): { js: string; css: string; license: string } {
  const read = (file: string) => fs.readFileSync(require.resolve(`uplot/${file}`), "utf8");
  return {
    js: read("dist/uPlot.iife.min.js"),
    css: read("dist/uPlot.min.css"),
    license: read("LICENSE"),
  };
}

/** Text for inside a <script> element: it must never close that element early. */
export function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1");
}

/** JSON for a <script type="application/json"> element. */
export function jsonScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
