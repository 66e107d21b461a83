// Scale figure: one run of many messages (default 1M) at full speed (rate 0) with one fault, end to
// end (produce, process, drain, reconcile, report), through the built CLI under /usr/bin/time -v:
// wall time, peak memory (RSS) of the CLI, and bytes per message of the run directory.
//   npm run build && node bench/scale.mjs [--messages 1000000] [--profile at-least-once]
//     [--fault drop-acks] [--batch 1000] [--producers 1] [--client kafkajs] [--out DIR] [--keep]
// --batch sets producer.batchSize and processor.batchSize (messages per send, per commit);
// --producers N > 1 runs N producers, each in its own worker thread (workload.producerThreads).
// The cluster and Toxiproxy come from $KAFKA_CHAOS_BOOTSTRAP and $TOXIPROXY_URL, as for the CLI.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import YAML from "yaml";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "1000000" },
    profile: { type: "string", default: "at-least-once" },
    fault: { type: "string", default: "drop-acks" },
    batch: { type: "string", default: "1000" },
    producers: { type: "string", default: "1" },
    client: { type: "string", default: "kafkajs" },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const MESSAGES = Number(args.messages);
const BATCH = Number(args.batch);
const PRODUCERS = Number(args.producers);
if (![MESSAGES, BATCH, PRODUCERS].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error("--messages, --batch and --producers: whole numbers ≥ 1");
  process.exit(2);
}
if (!fs.existsSync("/usr/bin/time")) {
  console.error("needs /usr/bin/time (GNU time) for the peak memory");
  process.exit(2);
}

const work = args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), "kc-scale-"));
fs.mkdirSync(work, { recursive: true });
const runDir = path.join(work, "run");
const profileFile = path.join(work, "scale.yaml");

// The built-in profile, at full speed with larger batches.
const base = YAML.parse(
  fs.readFileSync(path.join(ROOT, "profiles", `${args.profile}.yaml`), "utf8"),
);
base.name = `${args.profile}-scale`;
base.client = args.client;
base.workload = {
  ...base.workload,
  messages: MESSAGES,
  rate: 0,
  producers: PRODUCERS,
  producerThreads: PRODUCERS > 1,
};
base.producer = { ...base.producer, batchSize: BATCH };
if (base.processor?.enabled !== false) base.processor = { ...base.processor, batchSize: BATCH };
fs.writeFileSync(profileFile, YAML.stringify(base));

const cli = path.join(ROOT, "bin", "kafka-chaos.js");
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");
console.log(
  `scale: ${MESSAGES.toLocaleString("en")} messages, profile ${args.profile} (batches of ${BATCH}, rate 0, ${PRODUCERS} producer(s)${PRODUCERS > 1 ? " in threads" : ""}, client ${args.client}), fault ${args.fault}; load ${load()}`,
);

const child = spawn(
  "/usr/bin/time",
  [
    "-v",
    process.execPath,
    cli,
    "run",
    "--profile",
    profileFile,
    "--fault",
    args.fault,
    "--out",
    runDir,
    "--quiet",
    "--json",
    path.join(work, "report.json"),
  ],
  { stdio: ["ignore", "pipe", "pipe"] },
);
let out = "";
let err = "";
child.stdout.on("data", (d) => (out += d));
child.stderr.on("data", (d) => (err += d));
const code = await new Promise((resolve) => child.on("exit", (c) => resolve(c ?? 1)));

const field = (name) => err.match(new RegExp(`${name}: (.+)`))?.[1]?.trim();
const wall = field("Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)");
const rssKb = Number(field("Maximum resident set size \\(kbytes\\)"));
const cpu = `${field("User time \\(seconds\\)")} s user, ${field("System time \\(seconds\\)")} s sys`;
const bytes = dirBytes(runDir);
let report;
try {
  report = JSON.parse(fs.readFileSync(path.join(work, "report.json"), "utf8"));
} catch {
  report = undefined;
}

console.log(
  out
    .split("\n")
    .filter((l) => /^(messages|faults|processor|verdict)/.test(l))
    .join("\n"),
);
console.log(`exit code       ${code}`);
console.log(`wall time       ${wall} (end to end: produce, process, drain, reconcile, report)`);
console.log(
  `run duration    ${report ? (report.durationMs / 1000).toFixed(1) : "?"} s (report durationMs)`,
);
console.log(
  `peak RSS        ${(rssKb / 1024).toFixed(0)} MiB (the CLI; its largest child if larger)`,
);
console.log(`CPU of the CLI  ${cpu}`);
console.log(
  `run directory   ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${(bytes / MESSAGES).toFixed(1)} bytes/message (${runDir})`,
);
console.log(`load after      ${load()}`);
if (code !== 0 && code !== 1) console.error(err.split("\n").slice(-30).join("\n"));
if (!args.keep && !args.out) fs.rmSync(work, { recursive: true, force: true });
process.exitCode = code;

function dirBytes(dir) {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}
