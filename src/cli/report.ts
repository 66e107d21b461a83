import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import type { Report } from "../report/report.js";
import { writeRunHtml } from "../run/html.js";
import { judgeRunDir, processorHistories } from "../run/judge.js";
import { readRunInfo, runFiles } from "../run/run-dir.js";

/**
 * `report DIR [--html FILE]`: (re)builds a run's HTML report from its files alone: its
 * report.json and histories; a run without report.json is judged first (from its drains,
 * like reconcile without a cluster).
 */
export async function reportCommand(dir: string, flags: { html?: string }): Promise<number> {
  readRunInfo(dir); // refuses a directory that holds no run
  const files = runFiles(dir);
  let report: Report;
  if (fs.existsSync(files.report)) {
    try {
      report = JSON.parse(fs.readFileSync(files.report, "utf8")) as Report;
    } catch (err) {
      throw new UsageError(`${files.report}: unreadable (${(err as Error).message})`);
    }
  } else {
    if (!fs.existsSync(files.drain)) {
      throw new UsageError(
        `${dir}: the run was never judged and its topics not drained; run kafka-chaos reconcile ${dir} first`,
      );
    }
    report = await judgeRunDir(dir);
  }
  const file = await writeRunHtml(
    dir,
    report,
    processorHistories(dir),
    flags.html ?? path.join(dir, "report.html"),
  );
  console.error(`report: ${file}`);
  return 0;
}
