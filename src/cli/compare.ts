import fs from "node:fs";
import path from "node:path";
import chalk from "chalk";
import Table from "cli-table3";
import { applyOverrides, loadProfile } from "../profiles/load.js";
import { renderComparePage } from "../report/html/compare-page.js";
import { produceStats, type ProduceStats } from "../report/latency.js";
import { orderHeld, spreadOf, withinSpread, type Spread } from "../report/repeats.js";
import type { Report } from "../report/report.js";
import { HTML_REPORT } from "../run/html.js";
import { runFiles } from "../run/run-dir.js";
import { runChaos } from "../run/run.js";
import {
  describeTransactions,
  transactionSizes,
  type TransactionSizes,
} from "../run/transactions.js";
import { connectionFrom, type ConnectionFlags } from "../clients/connection.js";
import { INTERRUPTED, stallLimitOf } from "./run.js";

interface CompareFlags extends ConnectionFlags {
  profiles: string;
  bootstrap: string;
  toxiproxy: string;
  messages?: number;
  rate: number;
  seed?: number;
  fault: string[];
  /** runs of each profile, interleaved (A B C A B C …) */
  repeats?: number;
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
  /** the transactions the run used, as set and as measured */
  transactions?: TransactionSizes;
}

/** One profile's runs (compare --repeats), in the order they ran. */
export interface Repeated {
  profile: string;
  runs: Row[];
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
  const repeats = flags.repeats ?? 1;
  const groups: Repeated[] = profiles.map((p) => ({ profile: p.name, runs: [] }));
  try {
    // Interleaved, A B C A B C …: drift of the machine or the cluster spreads over every profile.
    for (let repeat = 1; repeat <= repeats; repeat += 1) {
      for (const [i, profile] of profiles.entries()) {
        const label = repeats > 1 ? `${profile.name} (${repeat}/${repeats})` : profile.name;
        if (!flags.json) console.error(`running ${label} …`);
        const result = await runChaos({
          profile,
          bootstrap: flags.bootstrap,
          toxiproxy: flags.toxiproxy,
          seed,
          outDir: path.join(outRoot, repeats > 1 ? `${profile.name}-${repeat}` : profile.name),
          connection: connectionFrom(flags),
          proxyHost: flags.proxyHost,
          proxyPortBase: flags.proxyPorts,
          signal: interrupt.signal,
          ...(stallLimitMs === undefined ? {} : { stallLimitMs }),
        });
        if (result.interrupted) return INTERRUPTED;
        groups[i]!.runs.push({
          report: result.report,
          stats: await produceStats(runFiles(result.dir).history),
          dir: result.dir,
          transactions: await transactionSizes(result.dir, profile),
        });
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
  }
  // One entry per profile for the page: the run showing a violation if any, medians of speed.
  const rows = groups.map((g) => representative(g));
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
    repeats > 1
      ? groups.map((g) => ({
          profile: g.profile,
          summary: summaryOf(g),
          runs: g.runs.map(({ report, stats, transactions }) => ({ report, stats, transactions })),
        }))
      : rows.map(({ report, stats, transactions }) => ({ report, stats, transactions })),
    null,
    2,
  )}\n`;
  if (flags.json === "-") process.stdout.write(json);
  else {
    console.log(repeats > 1 ? renderRepeated(groups, seed) : renderComparison(rows, seed));
    if (flags.json) fs.writeFileSync(flags.json, json);
    console.error(`report: ${page}`);
  }
  return groups.every((g) => g.runs.every((r) => r.report.verdict === "pass")) ? 0 : 1;
}

/** The profile's run that shows a violation (the first pass otherwise), with median speed. */
function representative(g: Repeated): Row {
  const shown = g.runs.find((r) => r.report.verdict === "violation") ?? g.runs[0]!;
  if (g.runs.length === 1) return shown;
  const s = summaryOf(g);
  return {
    ...shown,
    stats: {
      ...shown.stats,
      throughput: s.throughput.median,
      p50Ms: s.p50Ms.median,
      p99Ms: s.p99Ms.median,
    },
  };
}

/** Median and range of a profile's speed over its runs. */
export function summaryOf(g: Repeated): { throughput: Spread; p50Ms: Spread; p99Ms: Spread } {
  return {
    throughput: spreadOf(g.runs.map((r) => r.stats.throughput)),
    p50Ms: spreadOf(g.runs.map((r) => r.stats.p50Ms)),
    p99Ms: spreadOf(g.runs.map((r) => r.stats.p99Ms)),
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en");

/** "≈ 25,900 (24,000–27,500)": median and range, ≈ when within the spread of the row above. */
function spreadCell(s: Spread, above: Spread | undefined): string {
  const near = above !== undefined && withinSpread(s, above) ? "≈ " : "";
  return `${near}${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

/**
 * The table of compare --repeats: per profile the median and range of msg/s and produce
 * latency, "≈" where a figure differs from the row above by less than the spread of either;
 * per hop the worst lost / dup of its runs; the verdicts. Then in how many repeats msg/s kept
 * the order of the list, and each profile's median msg/s relative to the row above.
 */
export function renderRepeated(groups: Repeated[], seed: number): string {
  const repeats = Math.min(...groups.map((g) => g.runs.length));
  const hops = [
    ...new Set(groups.flatMap((g) => g.runs.flatMap((r) => r.report.hops.map((h) => h.name)))),
  ];
  const table = new Table({
    head: [
      "profile",
      "transactions",
      "msg/s\nmedian (range)",
      "p50 ms\nmedian (range)",
      "p99 ms\nmedian (range)",
      ...hops.map((h) => `${h}\nlost / dup (worst)`),
      "verdict",
    ],
    style: { head: [], border: [] },
  });
  const summaries = groups.map(summaryOf);
  for (const [i, g] of groups.entries()) {
    const s = summaries[i]!;
    const above = summaries[i - 1];
    const violations = g.runs.filter((r) => r.report.verdict === "violation").length;
    const relaxed = g.runs.some((r) => (r.report.relaxed ?? []).length > 0);
    table.push([
      g.profile,
      describeTransactions(mergedTransactions(g.runs)),
      spreadCell(s.throughput, above?.throughput),
      spreadCell(s.p50Ms, above?.p50Ms),
      spreadCell(s.p99Ms, above?.p99Ms),
      ...hops.map((name) => {
        const found = g.runs.flatMap((r) => r.report.hops.filter((h) => h.name === name));
        if (found.length === 0) return "—";
        const lost = Math.max(...found.map((h) => h.lost));
        const dup = Math.max(...found.map((h) => h.duplicated));
        return `${lost} / ${dup}`;
      }),
      violations > 0
        ? chalk.red(`violation ${violations}/${g.runs.length}`)
        : relaxed
          ? chalk.yellow(`pass (relaxed) ${g.runs.length}/${g.runs.length}`)
          : chalk.green(`pass ${g.runs.length}/${g.runs.length}`),
    ]);
  }
  const faults =
    groups[0]?.runs[0]?.report.faults.map((f) => `${f.type} on ${f.target}`).join(", ") || "none";
  const lines = [
    `compare: seed ${seed}, faults: ${faults}, ${repeats} repeats each, interleaved`,
    table.toString(),
    "≈: differs from the row above by less than the spread (max − min) of either",
  ];
  if (groups.length > 1) {
    const held = orderHeld(groups.map((g) => g.runs.map((r) => r.stats.throughput)));
    const order = groups.map((g) => g.profile).join(" ≥ ");
    lines.push(`msg/s ${order}: held in ${held} of ${repeats} repeats`);
    const relative = groups
      .slice(1)
      .map((g, i) => {
        const ratio = summaries[i + 1]!.throughput.median / summaries[i]!.throughput.median;
        return `${g.profile} ${ratio.toFixed(2)}× ${groups[i]!.profile}`;
      })
      .join(", ");
    lines.push(`median msg/s relative to the row above: ${relative}`);
  }
  return lines.join("\n");
}

/** The transactions of a profile's runs taken together (mean messages over all of them). */
function mergedTransactions(runs: Row[]): TransactionSizes {
  const merged: TransactionSizes = {};
  for (const stage of ["producer", "processor"] as const) {
    const sizes = runs.flatMap((r) => (r.transactions?.[stage] ? [r.transactions[stage]] : []));
    if (sizes.length === 0) continue;
    const transactions = sizes.reduce((n, s) => n + s.transactions, 0);
    const messages = sizes.reduce((n, s) => n + s.messages * s.transactions, 0);
    merged[stage] = {
      ms: sizes[0]!.ms,
      transactions,
      messages: transactions > 0 ? messages / transactions : 0,
    };
  }
  return merged;
}

export function renderComparison(rows: Row[], seed: number): string {
  const hops = [...new Set(rows.flatMap((r) => r.report.hops.map((h) => h.name)))];
  const table = new Table({
    head: [
      "profile",
      "transactions",
      "msg/s",
      "p50 ms",
      "p99 ms",
      ...hops.map((h) => `${h}\nlost / dup`),
      "verdict",
    ],
    style: { head: [], border: [] },
  });
  for (const { report, stats, transactions } of rows) {
    table.push([
      report.profile,
      describeTransactions(transactions ?? {}),
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
