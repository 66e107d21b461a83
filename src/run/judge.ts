import fs from "node:fs";
import path from "node:path";
import { readDrainBatches, readHistory, readTail } from "../history/reader.js";
import { Reconciler, type OutputIsolation } from "../reconcile/reconcile.js";
import { claimWarnings } from "../profiles/claim-warnings.js";
import { judge } from "../reconcile/verdict.js";
import { buildReport, type Report } from "../report/report.js";
import { writeRunHtml } from "./html.js";
import { OffsetSet } from "../reconcile/storage.js";
import { transactionalOutput } from "./topics.js";
import { readRunInfo, runFiles, type RunInfo } from "./run-dir.js";

/** The output topic's drains, next to drain.jsonl (the input topic's, read_committed). */
export const OUTPUT_DRAINS: Record<OutputIsolation, string> = {
  committed: "drain-output.jsonl",
  uncommitted: "drain-output-uncommitted.jsonl",
};

/** Each processor worker incarnation's own history: processor-<slot>-<incarnation>.jsonl. */
export function processorHistories(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.startsWith("processor-") && name.endsWith(".jsonl"))
    .sort()
    .map((name) => path.join(dir, name));
}

/**
 * Re-judges a run from its files alone: run.json, history.jsonl, every processor history,
 * a complete drain.jsonl, for a run with an output topic its two drains
 * (the read_uncommitted one is optional: it only shows whether aborts were visible), for
 * a run with a sink drain-sink.jsonl, and tail.jsonl when the run had a tail reader (then
 * broker-storage is judged, for acks ≠ 0).
 */
export async function judgeRunDir(dir: string, warnings: string[] = []): Promise<Report> {
  const info = readRunInfo(dir);
  const files = runFiles(dir);
  const topics: { input: string; output?: string } = info.topics;
  const reconciler = new Reconciler();
  if (judgesConsumerAborts(info.profile) && fs.existsSync(files.drainEnds)) {
    reconciler.judgeConsumerAborts(await committedInput(files.drain), readEnds(files.drainEnds));
  }
  for await (const event of readHistory(files.history)) reconciler.addEvent(event);
  for (const file of processorHistories(dir)) {
    for await (const event of readHistory(file)) reconciler.addEvent(event);
  }
  // The tail (absent in older runs) goes before the input drain: each drained record clears
  // what the tail saw at its offset. Its presence is what has broker-storage judged.
  if (fs.existsSync(files.tail)) {
    reconciler.judgeStorage();
    for await (const line of readTail(files.tail)) reconciler.addTail(line);
  }
  for await (const batch of readDrainBatches(files.drain)) {
    for (const record of batch) reconciler.addRecord(record);
  }
  if (topics.output !== undefined) {
    const committed = path.join(dir, OUTPUT_DRAINS.committed);
    if (!fs.existsSync(committed)) {
      throw new Error(`${committed}: missing; the output topic ${topics.output} was not drained`);
    }
    await addOutput(reconciler, committed, "committed");
    const uncommitted = path.join(dir, OUTPUT_DRAINS.uncommitted);
    if (fs.existsSync(uncommitted)) await addOutput(reconciler, uncommitted, "uncommitted");
    else if (transactionalOutput(info.profile)) {
      warnings = [...warnings, `${uncommitted} missing: aborted records visible not counted`];
    }
  }
  if (info.sink) await addSinkRows(reconciler, files.drainSink, info.sink.table);
  const rec = reconciler.result();
  // A run.json from before profiles carried every setting has no settings to warn about.
  const settings = info.profile.producer === undefined ? [] : claimWarnings(info.profile);
  warnings = [...settings, ...warnings];
  const report = buildReport(
    info,
    rec,
    judge(rec, info.profile.expect, {
      claims: info.profile.claims,
      relax: info.profile.relax ?? [],
    }),
    warnings,
  );
  if (info.profile.app) {
    report.app = { command: info.profile.app.command.join(" "), logs: appLogs(dir) };
  }
  fs.writeFileSync(files.report, `${JSON.stringify(report, null, 2)}\n`);
  // The HTML report is a view of the verdict: failing to draw it must not lose the verdict.
  await writeRunHtml(dir, report, processorHistories(dir)).catch((err: Error) =>
    console.error(`kafka-chaos: report.html not written: ${err.message}`),
  );
  return report;
}

/**
 * A consumer that claims read_committed on a transactional input is judged on what it read:
 * records of aborted transactions it processed are its aborted reads. (The user's app keeps no
 * history of what it read.)
 */
function judgesConsumerAborts(profile: RunInfo["profile"]): boolean {
  return (
    profile.producer?.transactional === true &&
    profile.processor?.enabled === true &&
    profile.processor.isolation === "read_committed" &&
    profile.app === undefined
  );
}

async function committedInput(file: string): Promise<OffsetSet> {
  const committed = new OffsetSet();
  for await (const batch of readDrainBatches(file)) {
    for (const r of batch) committed.add(r.partition, r.offset);
  }
  return committed;
}

function readEnds(file: string): Map<number, number> {
  const ends = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, number>;
  return new Map(Object.entries(ends).map(([p, end]) => [Number(p), end]));
}

/** The app's log files (app-<instance>.<incarnation>.log), in start order per instance. */
export function appLogs(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => /^app-\d+\.\d+\.log$/.test(name))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
    .map((name) => path.join(dir, name));
}

async function addSinkRows(reconciler: Reconciler, file: string, table: string): Promise<void> {
  if (!fs.existsSync(file))
    throw new Error(`${file}: missing; the sink table ${table} was not drained`);
  for await (const batch of readDrainBatches(file)) {
    for (const record of batch) reconciler.addSinkRecord(record);
  }
}

async function addOutput(
  reconciler: Reconciler,
  file: string,
  isolation: OutputIsolation,
): Promise<void> {
  for await (const batch of readDrainBatches(file)) {
    for (const record of batch) reconciler.addOutputRecord(record, isolation);
  }
}
