import fs from "node:fs";
import type { Report } from "../report/report.js";
import { renderTable } from "../report/table.js";

/** Prints the table (unless the JSON goes to stdout) and writes the JSON where asked. */
export function emitReport(report: Report, json: string | undefined): void {
  const text = `${JSON.stringify(report, null, 2)}\n`;
  if (json === "-") process.stdout.write(text);
  else {
    console.log(renderTable(report));
    if (json) fs.writeFileSync(json, text);
  }
}

export const verdictCode = (report: Report): number => (report.verdict === "pass" ? 0 : 1);
