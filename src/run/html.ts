import fs from "node:fs";
import path from "node:path";
import { buildTimeline } from "../report/html/timeline.js";
import { renderRunPage } from "../report/html/run-page.js";
import type { Report } from "../report/report.js";
import { runFiles } from "./run-dir.js";

export const HTML_REPORT = "report.html";

/**
 * Writes a run's self-contained HTML report (default: report.html in the run directory) from
 * its report and its history files. Returns the file written.
 */
export async function writeRunHtml(
  dir: string,
  report: Report,
  processorFiles: string[],
  file = path.join(dir, HTML_REPORT),
): Promise<string> {
  const timeline = await buildTimeline(report, runFiles(dir).history, processorFiles);
  fs.writeFileSync(file, renderRunPage(report, timeline));
  return file;
}
