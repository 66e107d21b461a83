#!/usr/bin/env node
// Known-answer campaign: runs every scenario whose right answer is known (design.md, "Known-answer
// scenarios") several times against the real stack, with the built CLI, and checks each run's exit
// code and counts against that answer. Prints one row per scenario: runs, matching, false passes,
// false alarms, expected effect not shown, infrastructure failures, median wall time.
//
//   npm run accuracy -- --repeats 5 --clean-repeats 5 [--messages 5000] [--only PATTERN]
//
// Exit 0 when every run matched (or showed its verdict right but not the probabilistic effect);
// 1 on any false pass, false alarm, wrong count or unexpected exit code; 3 when a run hit an
// infrastructure failure (exit 3) and nothing worse happened; 2 on bad usage.

import { execFileSync, spawn } from "node:child_process";
import { createHash, randomInt } from "node:crypto";
import { appendFileSync, existsSync } from "node:fs";
import net from "node:net";
import { cp, mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import YAML from "yaml";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HERE = path.join(ROOT, "scripts", "accuracy");

const USAGE = `usage: npm run accuracy -- [options]

  --repeats <n>         runs of each fault scenario (default 1)
  --client <name>       the processor's client library for every run: kafkajs or librdkafka
  --clean-repeats <n>   runs of each built-in profile without faults (default: --repeats)
  --messages <n>        messages per run (default 5000)
  --only <pattern>      only the scenarios whose id matches this regular expression
  --seed <n>            base seed; each run's seed is derived from it, the scenario and the repeat
  --time-limit <time>   start no new run after this long (e.g. 40m); the rounds are interleaved,
                        so every scenario gets its share of the runs that fit
  --max-duration <time> passed to each run (default 3m); the harness kills a run 2 min after it
  --out <dir>           campaign folder (default .cache/accuracy/<timestamp>)
  --keep-runs           keep every run directory (default: only those that did not match)
  --apps                also the examples' apps (examples/, built with examples/build.sh)
  --no-snapshot         run bin/kafka-chaos.js of the work tree, not a copy taken at the start
  --list                print the scenarios and exit
  -h, --help

Other flags of the runs come from the environment (KAFKA_CHAOS_BOOTSTRAP, TOXIPROXY_URL,
KAFKA_CHAOS_PG_URL, KAFKA_CHAOS_PROXY_PORTS, …), as for kafka-chaos run.`;

// ---------------------------------------------------------------------------------------------
// The known answers.
//
// `checks` must hold in every run (a count that must be zero, or a fixed relation). `effects` are
// what the fault should cause ("> 0"): a fault may happen to cause nothing in one run (acks dropped
// while nothing was in flight), so a run that got the right verdict without the effect is
// "effect not shown", not a mismatch. For a scenario that expects a violation, the effect is the
// violation's reason: a pass with the effect present is a false pass; a pass without it is
// "effect not shown" (the fault did not bite, and nothing was there to catch).
// `*` stands for every hop of the run; `run.crashes` is the number of processor worker crashes,
// `run.unknown` and `run.failed` the sends with those outcomes.

const E2E_EXACTLY_ONCE = [
  "end-to-end.lost == 0",
  "end-to-end.duplicated == 0",
  "end-to-end.abortedReads == 0",
  "*.lostAcked == 0",
];

/** The built-in profiles: each with the faults that characterise it. */
const MATRIX = [
  {
    id: "at-most-once/default",
    profile: "at-most-once",
    expectExit: 0,
    checks: ["*.duplicated == 0", "*.lostAcked == 0"],
    effects: ["end-to-end.lost > 0"],
  },
  {
    id: "at-most-once/crash-after-commit",
    profile: "at-most-once",
    faults: ["crash-consumer:point=after-commit-before-process"],
    expectExit: 0,
    checks: ["*.duplicated == 0", "producer-broker.lost == 0"],
    effects: ["broker-consumer.lost > 0"],
  },
  {
    id: "at-least-once/default",
    profile: "at-least-once",
    expectExit: 0,
    checks: ["*.lostAcked == 0", "broker-consumer.lost == 0"],
    effects: ["end-to-end.duplicated > 0"],
  },
  {
    id: "at-least-once/crash-before-commit",
    profile: "at-least-once",
    faults: ["crash-consumer:point=after-process-before-commit"],
    expectExit: 0,
    checks: ["*.lost == 0"],
    effects: ["broker-consumer.duplicated > 0"],
  },
  {
    id: "idempotent-producer/default",
    profile: "idempotent-producer",
    expectExit: 0,
    checks: ["producer-broker.duplicated == 0", "*.lostAcked == 0", "broker-consumer.lost == 0"],
    effects: [],
  },
  {
    id: "exactly-once/default",
    profile: "exactly-once",
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "*.duplicated == 0"],
    effects: [],
  },
  {
    id: "exactly-once/cut-producer",
    profile: "exactly-once",
    faults: ["cut-connection"],
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "*.duplicated == 0"],
    effects: [],
  },
  {
    id: "exactly-once/cut-processor",
    profile: "exactly-once",
    faults: ["cut-connection:role=processor"],
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "*.duplicated == 0"],
    effects: [],
  },
  {
    id: "exactly-once/drop-acks-processor",
    profile: "exactly-once",
    faults: ["drop-acks:role=processor"],
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "*.duplicated == 0"],
    effects: [],
  },
  {
    id: "exactly-once/crash-mid-transaction",
    profile: "exactly-once",
    faults: ["crash-consumer:point=mid-transaction"],
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "*.duplicated == 0"],
    effects: ["run.crashes > 0"],
  },
  {
    id: "exactly-once/crash-producer",
    profile: "exactly-once",
    faults: ["crash-producer"],
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "*.duplicated == 0"],
    effects: [],
  },
  {
    id: "at-least-once-idempotent-sink/default",
    profile: "at-least-once-idempotent-sink",
    expectExit: 0,
    checks: [
      "*.lostAcked == 0",
      "broker-consumer.lost == 0",
      "consumer-sink.duplicated == 0",
      "end-to-end.duplicated == 0",
    ],
    effects: ["broker-consumer.duplicated > 0"],
  },
  {
    id: "exactly-once-db/default",
    profile: "exactly-once-db",
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "consumer-sink.duplicated == 0"],
    effects: ["run.crashes > 0"],
  },
  {
    id: "exactly-once-db/crash-after-sink-write",
    profile: "exactly-once-db",
    faults: ["crash-consumer:point=after-sink-write-before-commit"],
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "consumer-sink.duplicated == 0"],
    effects: ["run.crashes > 0"],
  },
  {
    id: "exactly-once-db/drop-acks",
    profile: "exactly-once-db",
    faults: ["drop-acks"],
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "producer-broker.duplicated == 0"],
    effects: [],
  },
  // The claim against the settings: the claim alone (no expect list) must catch these.
  {
    id: "claims-at-least-once/commits-before",
    profile: path.join(HERE, "at-least-once-commit-before.yaml"),
    expectExit: 1,
    checks: ["producer-broker.lostAcked == 0"],
    effects: ["broker-consumer.lost > 0"],
  },
  {
    id: "claims-exactly-once/not-idempotent",
    profile: path.join(HERE, "exactly-once-not-idempotent.yaml"),
    expectExit: 1,
    checks: ["producer-broker.lostAcked == 0"],
    effects: ["end-to-end.duplicated > 0"],
  },
];

/**
 * The examples under examples/: the user's own app (Kafka Streams, Python + PostgreSQL) as the
 * processor stage, with their profiles' own faults and message counts. Run with --apps (after
 * examples/build.sh).
 */
const EXAMPLES = path.join(ROOT, "examples");
const APPS = [
  {
    id: "app/streams-exactly-once",
    profile: path.join(EXAMPLES, "kafka-streams", "streams-exactly-once.yaml"),
    messages: 12000,
    expectExit: 0,
    checks: [...E2E_EXACTLY_ONCE, "*.duplicated == 0"],
    effects: ["run.crashes > 0"],
  },
  {
    id: "app/streams-at-least-once",
    profile: path.join(EXAMPLES, "kafka-streams", "streams-at-least-once.yaml"),
    messages: 12000,
    expectExit: 0,
    checks: ["*.lostAcked == 0", "end-to-end.lost == 0"],
    effects: ["end-to-end.duplicated > 0"],
  },
  {
    id: "app/streams-alo-claims-eos",
    profile: path.join(EXAMPLES, "kafka-streams", "streams-alo-claims-eos.yaml"),
    messages: 12000,
    expectExit: 1,
    checks: ["*.lostAcked == 0"],
    effects: ["end-to-end.duplicated > 0"],
  },
  {
    id: "app/python-plain-insert",
    profile: path.join(EXAMPLES, "python-postgres", "python-plain-insert.yaml"),
    messages: 14000,
    expectExit: 0,
    checks: ["*.lostAcked == 0", "end-to-end.lost == 0"],
    effects: ["consumer-sink.duplicated > 0"],
  },
  {
    id: "app/python-on-conflict",
    profile: path.join(EXAMPLES, "python-postgres", "python-on-conflict.yaml"),
    messages: 14000,
    expectExit: 0,
    checks: ["*.lostAcked == 0", "*.duplicated == 0", "end-to-end.lost == 0"],
    effects: ["run.crashes > 0"],
  },
  {
    id: "app/python-commit-before-write",
    profile: path.join(EXAMPLES, "python-postgres", "python-commit-before-write.yaml"),
    messages: 14000,
    expectExit: 1,
    checks: ["producer-broker.lostAcked == 0"],
    effects: ["end-to-end.lostAcked > 0"],
  },
];

const BUILT_IN = [
  "at-most-once",
  "at-least-once",
  "idempotent-producer",
  "exactly-once",
  "at-least-once-idempotent-sink",
  "exactly-once-db",
];

/** No fault: pass, and every count zero at every hop. */
const CLEAN = BUILT_IN.map((profile) => ({
  id: `clean/${profile}`,
  profile,
  faults: ["none"],
  expectExit: 0,
  checks: [
    "*.lost == 0",
    "*.duplicated == 0",
    "*.reordered == 0",
    "*.abortedReads == 0",
    "*.abortedVisible == 0",
    "*.unexpected == 0",
  ],
  effects: [],
  clean: true,
}));

/**
 * The broker-storage rows: they need a cluster of 3 brokers whose replication goes through
 * Toxiproxy (the local stack with --brokers 3), and their own message counts (their faults are
 * placed in time). Run when KAFKA_CHAOS_BOOTSTRAP names three brokers.
 */
const REPLICATED = [
  {
    id: "acks1-leader-failover/default",
    profile: "acks1-leader-failover",
    messages: 30000,
    expectExit: 1,
    checks: ["producer-broker.lostAcked == 0"],
    effects: ["broker-storage.lostAcked > 0"],
  },
  {
    id: "acks-all-failover/slow-replication+kill",
    profile: path.join(HERE, "acks-all-failover.yaml"),
    messages: 30000,
    expectExit: 0,
    checks: ["*.lostAcked == 0"],
    effects: [],
  },
  {
    id: "idempotent-failover/kill-leader",
    profile: path.join(HERE, "idempotent-failover.yaml"),
    messages: 20000,
    expectExit: 0,
    checks: ["*.lostAcked == 0", "*.duplicated == 0"],
    effects: [],
  },
  {
    id: "exactly-once-replicated/pause-coordinator+kill-leader",
    profile: path.join(HERE, "exactly-once-replicated.yaml"),
    messages: 10000,
    expectExit: 0,
    checks: E2E_EXACTLY_ONCE,
    effects: [],
  },
  {
    id: "replicated-at-least-once/kill-leader",
    profile: "replicated-at-least-once",
    messages: 20000,
    expectExit: 0,
    checks: ["*.lostAcked == 0"],
    effects: [],
  },
];
const THREE_BROKERS = (process.env.KAFKA_CHAOS_BOOTSTRAP ?? "").split(",").length >= 3;
const SKIPPED = THREE_BROKERS ? [] : REPLICATED.map((s) => s.id);
const SKIP_REASON =
  "need a cluster of 3 brokers: KAFKA_CHAOS_BOOTSTRAP naming them (npm run stack:up -- --brokers 3)";

// ---------------------------------------------------------------------------------------------
// Predicates: "hop.count op value", hop may be "*".

const OPS = {
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
};

function parsePredicate(text) {
  const m = /^([\w*-]+)\.(\w+)\s*(==|!=|>=|<=|>|<)\s*(\d+)$/.exec(text);
  if (!m) throw new Error(`bad predicate: ${text}`);
  return { text, hop: m[1], count: m[2], op: m[3], value: Number(m[4]) };
}

/** Evaluates a predicate on a report: { ok, detail } (detail names the values that broke it). */
function evaluate(predicate, report) {
  const p = parsePredicate(predicate);
  if (p.hop === "run") {
    const run = {
      crashes: report.processor?.crashes?.length ?? 0,
      unknown: report.messages?.unknown,
      failed: report.messages?.failed,
    };
    const v = run[p.count];
    if (typeof v !== "number") return { ok: false, detail: `run.${p.count}: no such count` };
    return { ok: OPS[p.op](v, p.value), detail: `run.${p.count} = ${v}` };
  }
  const hops = p.hop === "*" ? report.hops : report.hops.filter((h) => h.name === p.hop);
  if (hops.length === 0) return { ok: false, detail: `${p.hop}: no such hop in the report` };
  const bad = [];
  for (const hop of hops) {
    const v = hop[p.count];
    if (typeof v !== "number") bad.push(`${hop.name}.${p.count} missing`);
    else if (!OPS[p.op](v, p.value)) bad.push(`${hop.name}.${p.count} = ${v}`);
  }
  return { ok: bad.length === 0, detail: bad.join(", ") };
}

// ---------------------------------------------------------------------------------------------
// Classification of one run.

const CLASSES = {
  match: "matching",
  noEffect: "effect not shown",
  falsePass: "false pass",
  falseAlarm: "false alarm",
  wrong: "wrong counts / exit",
  hung: "did not exit",
  infra: "exit 3",
};

function classify(scenario, exitCode, report) {
  if (exitCode === 3) return { cls: "infra", why: "exit 3 (infrastructure)" };
  if (exitCode !== 0 && exitCode !== 1) return { cls: "wrong", why: `exit ${exitCode}` };
  if (!report) return { cls: "wrong", why: `exit ${exitCode} but no JSON report` };
  const failedChecks = scenario.checks
    .map((c) => ({ c, r: evaluate(c, report) }))
    .filter((x) => !x.r.ok)
    .map((x) => `${x.c} (${x.r.detail})`);
  const missingEffects = scenario.effects
    .map((c) => ({ c, r: evaluate(c, report) }))
    .filter((x) => !x.r.ok)
    .map((x) => `${x.c} (${x.r.detail})`);
  const verdictOk = (exitCode === 0) === (report.verdict === "pass");
  if (!verdictOk) {
    return { cls: "wrong", why: `exit ${exitCode} with verdict ${report.verdict}` };
  }
  const violations = report.violations.map((v) => `${v.hop}.${v.count} = ${v.value}`).join(", ");
  if (scenario.expectExit === 0) {
    if (exitCode === 1) return { cls: "falseAlarm", why: `violation: ${violations}` };
    if (failedChecks.length) return { cls: "wrong", why: `pass, but ${failedChecks.join("; ")}` };
    if (missingEffects.length) return { cls: "noEffect", why: missingEffects.join("; ") };
    return { cls: "match", why: "" };
  }
  // A violation is expected, caused by the effects.
  if (exitCode === 0) {
    if (missingEffects.length === 0) {
      return { cls: "falsePass", why: `pass, with ${scenario.effects.join(", ")}` };
    }
    if (failedChecks.length) return { cls: "wrong", why: `pass, but ${failedChecks.join("; ")}` };
    return { cls: "noEffect", why: `pass; ${missingEffects.join("; ")}` };
  }
  if (missingEffects.length) {
    return {
      cls: "wrong",
      why: `violation (${violations}), but not the expected one: ${missingEffects.join("; ")}`,
    };
  }
  if (failedChecks.length)
    return { cls: "wrong", why: `violation, but ${failedChecks.join("; ")}` };
  return { cls: "match", why: "" };
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function fail(message) {
  console.error(`accuracy: ${message}`);
  process.exit(2);
}

function duration(text, flag) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (!m) fail(`${flag}: expected a duration such as 90s, 40m or 1h, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "ms"];
  return Number(m[1]) * unit;
}

function count(text, flag, min) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`${flag}: expected an integer ≥ ${min}, got "${text}"`);
  return n;
}

function stamp(date) {
  return date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

function seedFor(base, id, repeat) {
  const h = createHash("sha256").update(`${base}:${id}:${repeat}`).digest();
  return h.readUInt32BE(0) & 0x7fffffff;
}

function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function seconds(ms) {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)}s` : "–";
}

function profileLabel(profile) {
  return profile.endsWith(".yaml") ? path.relative(ROOT, profile) : profile;
}

async function defaultFaults(profile) {
  const file = profile.endsWith(".yaml") ? profile : path.join(ROOT, "profiles", `${profile}.yaml`);
  const doc = YAML.parse(await readFile(file, "utf8"));
  return (doc.faults ?? []).map((f) => (typeof f === "string" ? f : JSON.stringify(f)));
}

function expectedText(s, sep) {
  const verdict = s.expectExit === 0 ? "pass (exit 0)" : "violation (exit 1)";
  const lines = [verdict];
  if (s.clean) lines.push("every count 0 at every hop");
  else lines.push(...s.checks);
  for (const e of s.effects) lines.push(`effect: ${e}`);
  return lines.join(sep);
}

/** Runs a command, stdout and stderr to files; resolves { code, signal, ms }. */
function runChild(args, { cwd, env, stdoutFile, stderrFile, killAfterMs, onChild, onOverrun }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    onChild(child);
    const out = [];
    const err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    let killed = false;
    const timer = setTimeout(async () => {
      killed = true;
      await onOverrun?.(child);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
    }, killAfterMs);
    child.on("close", async (code, signal) => {
      const ended = Date.now();
      clearTimeout(timer);
      onChild(null);
      await writeFile(stdoutFile, Buffer.concat(out));
      await writeFile(stderrFile, Buffer.concat(err));
      const errText = Buffer.concat(err).toString("utf8");
      resolve({ code, signal, killed, ms: ended - started, ended, stderr: errText });
    });
  });
}

const TOXIPROXY = process.env.TOXIPROXY_URL ?? "http://127.0.0.1:8474";
const BOOTSTRAP = (process.env.KAFKA_CHAOS_BOOTSTRAP ?? "127.0.0.1:9092").split(",");

function reachable(hostPort) {
  const i = hostPort.lastIndexOf(":");
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    socket.setTimeout(2000);
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.on("connect", () => done(true));
    socket.on("error", () => done(false));
    socket.on("timeout", () => done(false));
  });
}

async function stackUp() {
  try {
    const res = await fetch(`${TOXIPROXY}/version`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return `Toxiproxy ${TOXIPROXY} answered ${res.status}`;
  } catch {
    return `Toxiproxy ${TOXIPROXY} unreachable`;
  }
  for (const b of BOOTSTRAP) if (!(await reachable(b))) return `Kafka ${b} unreachable`;
  return null;
}

/**
 * After an infrastructure failure, waits (at most `limitMs`) until Toxiproxy and Kafka answer
 * again, so that one restart of the shared stack costs one run, not every run after it. The
 * failed run stays counted as exit 3. Returns how long it waited and why.
 */
async function waitForStack(limitMs) {
  const start = Date.now();
  let problem = await stackUp();
  const first = problem;
  while (problem && Date.now() - start < limitMs && !interrupted) {
    await new Promise((r) => setTimeout(r, 2000));
    problem = await stackUp();
  }
  return { ms: Date.now() - start, first, still: problem };
}

/**
 * Evidence of a run that overstayed, taken before it is killed: what keeps its event loop
 * alive (scripts/accuracy/handles.mjs, on SIGUSR2), its child processes and its TCP sockets.
 */
async function captureHang(child, file) {
  child.kill("SIGUSR2");
  await new Promise((r) => setTimeout(r, 1000));
  const lines = [];
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
    } catch (e) {
      return `${cmd}: ${e.message}`;
    }
  };
  lines.push(`# ps (the run and its children)`);
  lines.push(sh("ps", ["-o", "pid,ppid,stat,etime,args", "-p", String(child.pid)]));
  lines.push(sh("ps", ["-o", "pid,ppid,stat,etime,args", "--ppid", String(child.pid)]));
  lines.push(`# TCP sockets of pid ${child.pid}`);
  lines.push(
    sh("ss", ["-tanp"])
      .split("\n")
      .filter((l) => l.includes(`pid=${child.pid},`))
      .join("\n"),
  );
  await writeFile(file, lines.join("\n") + "\n");
}

function lastLine(text) {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.at(-1) ?? "";
}

// ---------------------------------------------------------------------------------------------
// Main.

const { values: opts } = (() => {
  try {
    return parseArgs({
      options: {
        repeats: { type: "string", default: "1" },
        "clean-repeats": { type: "string" },
        messages: { type: "string", default: "5000" },
        only: { type: "string" },
        seed: { type: "string" },
        client: { type: "string" },
        "time-limit": { type: "string" },
        "max-duration": { type: "string", default: "3m" },
        out: { type: "string" },
        "keep-runs": { type: "boolean", default: false },
        apps: { type: "boolean", default: false },
        "no-snapshot": { type: "boolean", default: false },
        list: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    });
  } catch (e) {
    fail(`${e.message}\n${USAGE}`);
  }
})();

if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

const repeats = count(opts.repeats, "--repeats", 0);
const cleanRepeats = count(opts["clean-repeats"] ?? opts.repeats, "--clean-repeats", 0);
const messages = count(opts.messages, "--messages", 1);
const baseSeed = opts.seed === undefined ? randomInt(2 ** 31 - 1) : count(opts.seed, "--seed", 0);
const timeLimitMs = opts["time-limit"] ? duration(opts["time-limit"], "--time-limit") : Infinity;
const maxDurationMs = duration(opts["max-duration"], "--max-duration");
let only;
try {
  only = opts.only ? new RegExp(opts.only, "i") : null;
} catch (e) {
  fail(`--only: ${e.message}`);
}

const scenarios = [
  ...MATRIX.map((s) => ({ ...s, planned: repeats })),
  ...CLEAN.map((s) => ({ ...s, planned: cleanRepeats })),
  ...(THREE_BROKERS ? REPLICATED.map((s) => ({ ...s, planned: repeats })) : []),
  ...(opts.apps ? APPS.map((s) => ({ ...s, planned: repeats })) : []),
].filter((s) => s.planned > 0 && (!only || only.test(s.id)));
for (const s of scenarios) {
  s.faultText = s.faults ? s.faults.join(" + ") : `${(await defaultFaults(s.profile)).join(" + ")}`;
  if (!s.faults) s.faultText += " (profile default)";
  for (const p of [...s.checks, ...s.effects]) parsePredicate(p);
}

if (opts.list) {
  for (const s of scenarios) {
    console.log(`${s.id}\n  profile ${profileLabel(s.profile)}, fault ${s.faultText}`);
    console.log(`  expected: ${expectedText(s, "; ")}`);
  }
  console.log(`skipped (${SKIP_REASON}):`);
  for (const s of SKIPPED) console.log(`  ${s}`);
  process.exit(0);
}
if (scenarios.length === 0) fail("no scenario to run (check --only and the repeat counts)");

const campaignStart = new Date();
const campaign = path.resolve(
  opts.out ?? path.join(ROOT, ".cache", "accuracy", stamp(campaignStart)),
);
if (existsSync(path.join(campaign, "results.jsonl"))) fail(`${campaign} already holds a campaign`);
await mkdir(path.join(campaign, "runs"), { recursive: true });

// The CLI under test is compiled into the campaign folder, so that a rebuild in the work tree
// during the campaign (npm test deletes and rebuilds dist/) cannot pull files from under a
// run, and every run tests the same build.
let cliRoot = ROOT;
if (!opts["no-snapshot"]) {
  cliRoot = path.join(campaign, "cli");
  for (const part of ["bin", "profiles", "package.json"]) {
    await cp(path.join(ROOT, part), path.join(cliRoot, part), { recursive: true });
  }
  await symlink(path.join(ROOT, "node_modules"), path.join(cliRoot, "node_modules"), "dir");
  const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const outDir = path.join(cliRoot, "dist");
  const built = await runChild([tsc, "-p", "tsconfig.build.json", "--outDir", outDir], {
    cwd: ROOT,
    env: process.env,
    stdoutFile: path.join(campaign, "build.log"),
    stderrFile: path.join(campaign, "build.err"),
    killAfterMs: 300_000,
    onChild: () => {},
  });
  if (built.code !== 0) {
    fail(`compiling src/ for the campaign failed; see ${path.join(campaign, "build.log")}`);
  }
}
const cli = path.join(cliRoot, "bin", "kafka-chaos.js");

const git = await new Promise((resolve) => {
  const c = spawn("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT });
  let out = "";
  c.stdout.on("data", (d) => (out += d));
  c.on("close", () => resolve(out.trim()));
  c.on("error", () => resolve(""));
});

const env = {
  ...process.env,
  KAFKA_CHAOS_CACHE: process.env.KAFKA_CHAOS_CACHE ?? path.join(ROOT, ".cache"),
};
for (const k of ["GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "CI", "FORCE_COLOR"]) delete env[k];
env.NO_COLOR = "1";

// Interleaved order: each round gives every scenario its share of runs (proportional to its
// planned count), so a time limit or an interruption leaves a balanced sample.
const maxPlanned = Math.max(...scenarios.map((s) => s.planned));
const queue = [];
const given = new Map(scenarios.map((s) => [s.id, 0]));
for (let round = 1; round <= maxPlanned; round++) {
  for (const s of scenarios) {
    const due = Math.ceil((round * s.planned) / maxPlanned);
    while (given.get(s.id) < due) {
      given.set(s.id, given.get(s.id) + 1);
      queue.push({ scenario: s, repeat: given.get(s.id) });
    }
  }
}

console.error(
  `accuracy: ${scenarios.length} scenarios, ${queue.length} runs of ${messages} messages (or the scenario's own), base seed ${baseSeed}`,
);
console.error(`accuracy: campaign folder ${campaign}`);

let current = null;
let interrupted = false;
process.on("SIGINT", () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error("\naccuracy: interrupted; stopping the current run, then writing the results");
  current?.kill("SIGINT");
});

const results = [];
const resultsFile = path.join(campaign, "results.jsonl");
let stoppedAtLimit = false;
let stackDown = null;
const stackWaits = [];
for (const [i, { scenario: s, repeat }] of queue.entries()) {
  if (interrupted) break;
  if (Date.now() - campaignStart.getTime() >= timeLimitMs) {
    stoppedAtLimit = true;
    break;
  }
  const seed = seedFor(baseSeed, s.id, repeat);
  const name = `${s.id.replace(/[^\w.-]+/g, "_")}-${repeat}`;
  const dir = path.join(campaign, "runs", name);
  await mkdir(dir, { recursive: true });
  const runArgs = [
    "run",
    "--profile",
    profileLabel(s.profile),
    "--messages",
    String(s.messages ?? messages),
    "--seed",
    String(seed),
  ];
  for (const f of s.faults ?? []) runArgs.push("--fault", f);
  // The built-in processor's client library; an app scenario runs its own.
  if (opts.client && !s.id.startsWith("app/")) runArgs.push("--client", opts.client);
  runArgs.push("--max-duration", opts["max-duration"]);
  const reportFile = path.join(dir, "report.json");
  const preload = path.join(HERE, "handles.mjs");
  const args = [
    "--import",
    preload,
    cli,
    ...runArgs,
    "--out",
    path.join(dir, "run"),
    "--json",
    reportFile,
  ];
  const r = await runChild(args, {
    cwd: ROOT,
    env: { ...env, KC_HANDLES_FILE: path.join(dir, "handles.txt") },
    onOverrun: (child) => captureHang(child, path.join(dir, "hang.txt")),
    stdoutFile: path.join(dir, "stdout.txt"),
    stderrFile: path.join(dir, "stderr.txt"),
    killAfterMs: maxDurationMs + 120_000,
    onChild: (c) => (current = c),
  });
  let report = null;
  // How long the process lived on after writing its report: something (a socket, a timer) kept
  // it alive. Reported on its own; a run killed for it counts as a mismatch.
  let exitLagMs = null;
  try {
    report = JSON.parse(await readFile(reportFile, "utf8"));
    exitLagMs = Math.max(0, r.ended - (await stat(reportFile)).mtimeMs);
  } catch {
    // no report: classified below
  }
  let { cls, why } = r.killed
    ? {
        cls: "hung",
        why:
          `did not exit within --max-duration + 2 min; killed` +
          (report ? ` (its report was written: verdict ${report.verdict}; see hang.txt)` : ""),
      }
    : r.code === null
      ? { cls: "wrong", why: `ended by ${r.signal}` }
      : classify(s, r.code, report);
  if (interrupted && r.code === 130) break;
  if (cls === "infra" || (cls === "wrong" && !report)) why += `: ${lastLine(r.stderr)}`;
  const keep = opts["keep-runs"] || cls !== "match";
  if (!keep) await rm(dir, { recursive: true, force: true });
  const result = {
    scenario: s.id,
    repeat,
    seed,
    exitCode: r.code,
    class: cls,
    why,
    wallMs: r.ms,
    exitLagMs: exitLagMs === null ? null : Math.round(exitLagMs),
    verdict: report?.verdict ?? null,
    runId: report?.runId ?? null,
    violations: report?.violations?.map((v) => `${v.hop}.${v.count}=${v.value}`) ?? [],
    relaxed: report?.relaxed ?? [],
    warnings: report?.warnings ?? [],
    messages: report?.messages ?? null,
    hops: (report?.hops ?? []).map((h) => ({
      name: h.name,
      lost: h.lost,
      lostAcked: h.lostAcked,
      lostUnacked: h.lostUnacked,
      duplicated: h.duplicated,
      reordered: h.reordered,
      abortedReads: h.abortedReads,
      abortedVisible: h.abortedVisible,
      unexpected: h.unexpected,
    })),
    runDir: keep ? path.relative(ROOT, dir) : null,
    replay: `node bin/kafka-chaos.js ${runArgs.map((a) => (/[^\w./:=,-]/.test(a) ? `'${a}'` : a)).join(" ")}`,
  };
  if (cls === "infra") {
    const w = await waitForStack(300_000);
    if (w.first) {
      result.waitedForStackMs = w.ms;
      stackWaits.push(`after ${s.id} #${repeat}: ${w.first}; waited ${seconds(w.ms)}`);
      console.error(
        `accuracy: ${w.first}; waited ${seconds(w.ms)}${w.still ? `, still: ${w.still}` : ""}`,
      );
    }
    if (w.still) {
      stackDown = w.still;
      results.push(result);
      appendFileSync(resultsFile, JSON.stringify(result) + "\n");
      break;
    }
  }
  results.push(result);
  appendFileSync(resultsFile, JSON.stringify(result) + "\n");
  const tag = cls === "match" ? "ok" : CLASSES[cls];
  console.error(
    `[${i + 1}/${queue.length}] ${s.id} #${repeat} seed ${seed}: exit ${r.code}, ${seconds(r.ms)}, ${tag}${why ? ` — ${why}` : ""}`,
  );
}

// ---------------------------------------------------------------------------------------------
// The table.

const rows = scenarios.map((s) => {
  const mine = results.filter((r) => r.scenario === s.id);
  const n = (cls) => mine.filter((r) => r.class === cls).length;
  return {
    scenario: s.id,
    profile: profileLabel(s.profile),
    fault: s.faultText,
    expected: expectedText(s, "\n"),
    planned: s.planned,
    runs: mine.length,
    match: n("match"),
    noEffect: n("noEffect"),
    falsePass: n("falsePass"),
    falseAlarm: n("falseAlarm"),
    wrong: n("wrong"),
    hung: n("hung"),
    infra: n("infra"),
    medianWallMs: median(mine.map((r) => r.wallMs)),
  };
});
const total = (k) => rows.reduce((a, r) => a + r[k], 0);
const totals = Object.fromEntries(
  ["runs", "match", "noEffect", "falsePass", "falseAlarm", "wrong", "hung", "infra"].map((k) => [
    k,
    total(k),
  ]),
);
const wallMs = Date.now() - campaignStart.getTime();
const mismatches = results.filter((r) => !["match", "noEffect"].includes(r.class));
const head = [
  "scenario",
  "fault",
  "expected",
  "runs",
  "matching",
  "effect not shown",
  "false pass",
  "false alarm",
  "wrong counts / exit",
  "did not exit",
  "exit 3",
  "median wall",
];
const totalPlanned = scenarios.reduce((a, s) => a + s.planned, 0);
const cells = (r) => [r.scenario, r.fault, r.expected, ...counts(r)];

// The terminal table: the fault under the scenario, short headers, hop names wrapped.
const counts = (r) => [
  r.runs === r.planned ? String(r.runs) : `${r.runs} of ${r.planned}`,
  r.match,
  r.noEffect,
  r.falsePass,
  r.falseAlarm,
  r.wrong,
  r.hung,
  r.infra,
  seconds(r.medianWallMs),
];
const table = new Table({
  head: ["scenario / fault", "expected", ...head.slice(3)],
  style: { head: [], border: [] },
  colWidths: [38, 38, 8, 10, 8, 7, 7, 8, 6, 6, 8],
  wordWrap: true,
});
for (const r of rows) {
  table.push([`${r.scenario}\nfault: ${r.fault}`, r.expected, ...counts(r)]);
}
table.push(["total", "", ...counts({ ...totals, planned: totalPlanned, medianWallMs: NaN })]);

const notes = [
  `${totals.runs} runs of ${messages} messages (or the scenario's own), base seed ${baseSeed}, commit ${git || "?"}, ${seconds(wallMs)} in all`,
  `campaign folder: ${campaign}`,
  `skipped (${SKIP_REASON}):`,
  ...SKIPPED.map((s) => `  - ${s}`),
];
if (stoppedAtLimit)
  notes.push(
    `stopped at the time limit (${opts["time-limit"]}): ${queue.length - results.length} planned runs not started`,
  );
const lingered = results.filter((r) => r.exitLagMs !== null && r.exitLagMs > 3000);
if (lingered.length) {
  const worst = Math.max(...lingered.map((r) => r.exitLagMs));
  notes.push(
    `${lingered.length} run(s) exited more than 3 s after writing their report (longest ${seconds(worst)}): ${[...new Set(lingered.map((r) => r.scenario))].join(", ")}`,
  );
}
for (const w of stackWaits) notes.push(`stack unavailable ${w}`);
if (stackDown) notes.push(`stopped: the stack stayed unavailable for 5 min (${stackDown})`);
if (interrupted)
  notes.push(`interrupted: ${queue.length - results.length} planned runs not finished`);
notes.push(
  "effect not shown: the verdict was right, but the fault happened to cause nothing in that run (for an expected violation: a pass with nothing to catch); not a mismatch",
);

console.log(table.toString());
for (const n of notes) console.log(n);
if (mismatches.length) {
  console.log("mismatches (run directories kept):");
  for (const m of mismatches) {
    console.log(`  ${m.scenario} #${m.repeat} seed ${m.seed}: ${CLASSES[m.class]} — ${m.why}`);
    console.log(`    ${m.runDir ?? "(removed)"}; replay: ${m.replay}`);
  }
}

const md = [
  `# Known-answer campaign ${stamp(campaignStart)}`,
  "",
  `| ${head.join(" | ")} |`,
  `|${head.map(() => "---").join("|")}|`,
  ...rows.map(
    (r) =>
      `| ${cells(r)
        .map((c) =>
          String(c).replaceAll("\n", "<br>").replaceAll("|", "\\|").replaceAll("*", "\\*"),
        )
        .join(" | ")} |`,
  ),
  `| **total** | | | ${totals.runs === totalPlanned ? totals.runs : `${totals.runs} of ${totalPlanned}`} | ${totals.match} | ${totals.noEffect} | ${totals.falsePass} | ${totals.falseAlarm} | ${totals.wrong} | ${totals.hung} | ${totals.infra} | |`,
  "",
  ...notes.map((n) => (n.startsWith("  - ") ? n.slice(2) : `${n}  `)),
  "",
  ...(mismatches.length
    ? [
        "## Mismatches",
        "",
        ...mismatches.map(
          (m) =>
            `- \`${m.scenario}\` #${m.repeat}, seed ${m.seed}: ${CLASSES[m.class]} — ${m.why}; \`${m.runDir ?? "removed"}\`; replay \`${m.replay}\``,
        ),
        "",
      ]
    : []),
].join("\n");

await writeFile(path.join(campaign, "summary.md"), md);
await writeFile(
  path.join(campaign, "summary.json"),
  JSON.stringify(
    {
      startedAt: campaignStart.toISOString(),
      wallMs,
      commit: git,
      messages,
      baseSeed,
      repeats,
      cleanRepeats,
      only: opts.only ?? null,
      stoppedAtLimit,
      interrupted,
      rows,
      totals,
      skipped: SKIPPED.map((s) => ({ scenario: s, reason: SKIP_REASON })),
      mismatches,
    },
    null,
    2,
  ) + "\n",
);

const worse = totals.falsePass + totals.falseAlarm + totals.wrong + totals.hung;
process.exitCode = interrupted ? 130 : worse > 0 ? 1 : totals.infra > 0 ? 3 : 0;
