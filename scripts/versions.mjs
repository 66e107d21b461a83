#!/usr/bin/env node
// Same verdicts on the brokers users run: the known-answer campaign (scripts/accuracy.mjs) on a
// local stack of each Kafka version, one after the other, then one table: a row per scenario, a
// column per version, each cell the scenario's result there (match, false pass, false alarm, …).
//
//   node scripts/versions.mjs [--versions 4.1.1,4.4.0] [--repeats 1] [--messages 3000] [--only RE]
//
// Each version's stack is a side stack (its own state directory, ports shifted by 3000), so the
// stack of the tests is not touched; PostgreSQL scenarios use $KAFKA_CHAOS_PG_URL when set.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Table from "cli-table3";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = parseArgs({
  options: {
    versions: { type: "string", default: "4.1.1,4.4.0" },
    repeats: { type: "string", default: "1" },
    messages: { type: "string", default: "3000" },
    only: { type: "string" },
    offset: { type: "string", default: "3000" },
  },
});
const versions = opts.versions.split(",").map((v) => v.trim());
const offset = Number(opts.offset);
const bootstrap = `127.0.0.1:${9092 + offset}`;
const toxiproxy = `http://127.0.0.1:${8474 + offset}`;
const results = new Map(); // scenario → version → cell
const out = mkdtempSync(path.join(os.tmpdir(), "kc-versions-"));

for (const version of versions) {
  const env = {
    ...process.env,
    KAFKA_CHAOS_STACK_DIR: path.join(out, version, "stack"),
    KAFKA_CHAOS_PORT_OFFSET: String(offset),
  };
  const stack = (...args) =>
    execFileSync(process.execPath, [path.join(ROOT, "bin/stack.js"), ...args], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
  console.error(`versions: Kafka ${version}: starting a 1-node stack`);
  try {
    stack("up", "--kafka", version);
  } catch {
    const row = results.get("(the stack)") ?? new Map();
    results.set("(the stack)", row.set(version, "did not start"));
    continue;
  }
  const campaign = path.join(out, version, "accuracy");
  const args = [
    path.join(ROOT, "scripts/accuracy.mjs"),
    "--repeats",
    opts.repeats,
    "--clean-repeats",
    opts.repeats,
    "--messages",
    opts.messages,
    "--out",
    campaign,
    ...(opts.only ? ["--only", opts.only] : []),
  ];
  spawnSync(process.execPath, args, {
    env: {
      ...env,
      KAFKA_CHAOS_BOOTSTRAP: bootstrap,
      TOXIPROXY_URL: toxiproxy,
      KAFKA_CHAOS_PROXY_PORTS: String(21000 + offset),
    },
    // Each campaign's own table goes to stderr; stdout gets the one table across versions.
    stdio: ["ignore", process.stderr, "inherit"],
  });
  stack("down");
  const lines = readFileSync(path.join(campaign, "results.jsonl"), "utf8").trim().split("\n");
  const byScenario = new Map();
  for (const line of lines.filter(Boolean)) {
    const r = JSON.parse(line);
    const cells = byScenario.get(r.scenario) ?? [];
    cells.push(r.class);
    byScenario.set(r.scenario, cells);
  }
  for (const [scenario, classes] of byScenario) {
    const row = results.get(scenario) ?? new Map();
    row.set(version, summarise(classes));
    results.set(scenario, row);
  }
}

/** `match 2/2`, or the classes that were not a match, counted. */
function summarise(classes) {
  const counts = new Map();
  for (const c of classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].map(([c, n]) => `${c} ${n}/${classes.length}`).join(", ");
}

const table = new Table({ head: ["scenario", ...versions.map((v) => `Kafka ${v}`)] });
for (const [scenario, row] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
  table.push([scenario, ...versions.map((v) => row.get(v) ?? "-")]);
}
console.log(table.toString());
const same = [...results.values()].every(
  (row) => new Set(versions.map((v) => row.get(v))).size === 1,
);
console.log(
  same
    ? "every known answer the same on each version"
    : "results differ between versions (see above)",
);
console.error(`versions: campaigns in ${out}`);
process.exitCode = same ? 0 : 1;
