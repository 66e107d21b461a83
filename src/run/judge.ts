import fs from "node:fs";
import { readDrain, readHistory } from "../history/reader.js";
import { Reconciler } from "../reconcile/reconcile.js";
import { judge } from "../reconcile/verdict.js";
import { buildReport, type Report } from "../report/report.js";
import { readRunInfo, runFiles } from "./run-dir.js";

/** Re-judges a run from its files alone: run.json, history.jsonl and a complete drain.jsonl. */
export async function judgeRunDir(dir: string, warnings: string[] = []): Promise<Report> {
  const info = readRunInfo(dir);
  const files = runFiles(dir);
  const reconciler = new Reconciler();
  for await (const event of readHistory(files.history)) reconciler.addEvent(event);
  for await (const record of readDrain(files.drain)) reconciler.addRecord(record);
  const rec = reconciler.result();
  const report = buildReport(info, rec, judge(rec, info.profile.expect), warnings);
  fs.writeFileSync(files.report, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
