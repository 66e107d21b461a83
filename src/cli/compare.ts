import fs from "node:fs";
import path from "node:path";
import chalk from "chalk";
import Table from "cli-table3";
import { applyOverrides, loadProfile } from "../profiles/load.js";
import { renderComparePage } from "../report/html/compare-page.js";
import { produceStats, type ProduceStats } from "../report/latency.js";
import type { Report } from "../report/report.js";
import { HTML_REPORT } from "../run/html.js";
import { runFiles } from "../run/run-dir.js";
import { runChaos } from "../run/run.js";
import { connectionFrom, type ConnectionFlags } from "../workload/connection.js";
import { INTERRUPTED, stallLimitOf } from "./run.js";

interface CompareFlags extends ConnectionFlags {
  profiles: string;
  bootstrap: string;
  toxiproxy: string;
  messages?: number;
  rate: number;
  seed?: number;
  fault: string[];
  stallLimit?: string;
  out?: string;
  json?: string;
  proxyHost?: string;
  proxyPorts?: number;
}

interface Row {
  report: Report;
  stats: ProduceStats;
  /** the run's directory */
  dir?: string;
}

/**
 * Runs several profiles on the same workload and fault schedule (one seed for all) and prints
 * the trade-off: throughput and produce latency against loss and duplicates per hop.
 */
export async function compareCommand(flags: CompareFlags): Promise<number> {
  const names = flags.profiles
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const profiles = await Promise.all(
    names.map(async (n) => {
      const p = applyOverrides(await loadProfile(n), {
        messages: flags.messages,
        faults: flags.fault,
      });
      // Throughput is the point of comparing: the profiles' own pacing would hide it.
      return { ...p, workload: { ...p.workload, rate: flags.rate } };
    }),
  );
  const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
  const stallLimitMs = stallLimitOf(flags.stallLimit);
  const outRoot = path.resolve(flags.out ?? path.join("kafka-chaos-runs", `compare-${Date.now()}`));
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.on("SIGINT", onSignal);
  const rows: Row[] = [];
  try {
    for (const profile of profiles) {
      if (!flags.json) console.error(`running ${profile.name} …`);
      const result = await runChaos({
        profile,
        bootstrap: flags.bootstrap,
        toxiproxy: flags.toxiproxy,
        seed,
        outDir: path.join(outRoot, profile.name),
        connection: connectionFrom(flags),
        proxyHost: flags.proxyHost,
        proxyPortBase: flags.proxyPorts,
        signal: interrupt.signal,
        ...(stallLimitMs === undefined ? {} : { stallLimitMs }),
      });
      if (result.interrupted) return INTERRUPTED;
      rows.push({
        report: result.report,
        stats: await produceStats(runFiles(result.dir).history),
        dir: result.dir,
      });
    }
  } finally {
    process.off("SIGINT", onSignal);
  }
  const page = path.join(outRoot, "report.html");
  fs.writeFileSync(
    page,
    renderComparePage(
      rows.map((r) => ({
        ...r,
        link: `${encodeURIComponent(path.basename(r.dir ?? r.report.profile))}/${HTML_REPORT}`,
      })),
      seed,
    ),
  );
  const json = `${JSON.stringify(
    rows.map(({ report, stats }) => ({ report, stats })),
    null,
    2,
  )}\n`;
  if (flags.json === "-") process.stdout.write(json);
  else {
    console.log(renderComparison(rows, seed));
    if (flags.json) fs.writeFileSync(flags.json, json);
    console.error(`report: ${page}`);
  }
  return rows.every((r) => r.report.verdict === "pass") ? 0 : 1;
}

export function renderComparison(rows: Row[], seed: number): string {
  const hops = [...new Set(rows.flatMap((r) => r.report.hops.map((h) => h.name)))];
  const table = new Table({
    head: [
      "profile",
      "msg/s",
      "p50 ms",
      "p99 ms",
      ...hops.map((h) => `${h}\nlost / dup`),
      "verdict",
    ],
    style: { head: [], border: [] },
  });
  for (const { report, stats } of rows) {
    table.push([
      report.profile,
      String(stats.throughput),
      String(stats.p50Ms),
      String(stats.p99Ms),
      ...hops.map((name) => {
        const h = report.hops.find((x) => x.name === name);
        return h ? `${h.lost} / ${h.duplicated}` : "—";
      }),
      report.verdict === "violation"
        ? chalk.red("violation")
        : (report.relaxed ?? []).length > 0
          ? chalk.yellow("pass (relaxed)")
          : chalk.green("pass"),
    ]);
  }
  const faults = rows[0]?.report.faults.map((f) => `${f.type} on ${f.target}`).join(", ") || "none";
  return [`compare: seed ${seed}, faults: ${faults}`, table.toString()].join("\n");
}
