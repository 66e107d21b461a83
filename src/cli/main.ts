import { createRequire } from "node:module";
import { Command, Option } from "commander";
import { exitCodeOf, KafkaChaosError, UsageError } from "../errors.js";
import { PASSWORD_ENV } from "../clients/connection.js";
import { cleanupCommand } from "./cleanup.js";
import { compareCommand } from "./compare.js";
import { doctorCommand } from "./doctor.js";
import { exploreCommand } from "./explore.js";
import { profilesCommand } from "./profiles.js";
import { reportCommand } from "./report.js";
import { reconcileCommand, runCommand } from "./run.js";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

export const DEFAULT_BOOTSTRAP = "127.0.0.1:9092";
export const DEFAULT_TOXIPROXY = "http://127.0.0.1:8474";

const bootstrapOption = () =>
  new Option("--bootstrap <hosts>", "Kafka bootstrap servers, host:port,…")
    .env("KAFKA_CHAOS_BOOTSTRAP")
    .default(DEFAULT_BOOTSTRAP);
const toxiproxyOption = () =>
  new Option("--toxiproxy <url>", "Toxiproxy API URL")
    .env("TOXIPROXY_URL")
    .default(DEFAULT_TOXIPROXY);

/** Where Toxiproxy opens the run's proxies: it must be an address both it and this tool reach. */
function withProxyOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--proxy-host <host>",
        "address Toxiproxy binds the run's proxies to; clients connect there",
      )
        .env("KAFKA_CHAOS_PROXY_HOST")
        .default("127.0.0.1"),
    )
    .addOption(
      new Option(
        "--proxy-ports <port>",
        "first port tried for the run's proxies (one per broker and role)",
      )
        .env("KAFKA_CHAOS_PROXY_PORTS")
        .argParser(wholeNumber("--proxy-ports"))
        .default(21000),
    );
}

/** TLS and SASL options, each also from a KAFKA_CHAOS_* variable; the password only from env. */
function withConnection(cmd: Command): Command {
  return cmd
    .addOption(new Option("--ssl", "connect with TLS (env: KAFKA_CHAOS_SSL=true)"))
    .addOption(
      new Option("--ssl-ca <file>", "CA certificate (PEM) to trust").env("KAFKA_CHAOS_SSL_CA"),
    )
    .addOption(
      new Option("--ssl-cert <file>", "client certificate (PEM)").env("KAFKA_CHAOS_SSL_CERT"),
    )
    .addOption(new Option("--ssl-key <file>", "client key (PEM)").env("KAFKA_CHAOS_SSL_KEY"))
    .addOption(
      new Option(
        "--insecure",
        "do not verify the brokers' certificates (env: KAFKA_CHAOS_SSL_INSECURE=true)",
      ),
    )
    .addOption(
      new Option("--sasl <mechanism>", "plain, scram-sha-256 or scram-sha-512").env(
        "KAFKA_CHAOS_SASL_MECHANISM",
      ),
    )
    .addOption(
      new Option(
        "--sasl-username <name>",
        `SASL user; the password is read from ${PASSWORD_ENV}`,
      ).env("KAFKA_CHAOS_SASL_USERNAME"),
    );
}

export function buildProgram(setCode: (code: number) => void): Command {
  const program = new Command("kafka-chaos")
    .description(
      "Chaos tests for real Kafka clusters: proves or refutes a delivery guarantee hop by hop",
    )
    .version(version)
    .exitOverride()
    .showHelpAfterError("(run kafka-chaos --help for usage)");

  program
    .command("run")
    .description("run a workload under faults, reconcile every message, judge the profile's claims")
    .requiredOption("--profile <name|file>", "built-in profile name or a YAML/JSON file")
    .addOption(bootstrapOption())
    .addOption(toxiproxyOption())
    .option("--messages <n>", "messages to send (overrides the profile)", wholeNumber("--messages"))
    .option(
      "--client <name>",
      "client library of the producer and processor: kafkajs or librdkafka (overrides the profile)",
    )
    .option("--duration <time>", "stop sending after this long, e.g. 30s")
    .option("--seed <n>", "seed of the fault schedule, to repeat a run", wholeNumber("--seed"))
    .option(
      "--fault <spec>",
      "fault, repeatable; replaces the profile's faults ('none' for none)",
      collect,
      [],
    )
    .option("--topic-prefix <prefix>", "prefix of the run's topics and groups (default kc-<runId>)")
    .option("--out <dir>", "run directory (default ./kafka-chaos-runs/<runId>)")
    .option("--json <file>", "write the JSON report to a file, or - for stdout")
    .option("--junit <file>", "write a JUnit XML report (one test case per hop)")
    .option("--keep", "keep the run's topics afterwards", false)
    .option("--max-duration <time>", "stop and fail (exit 3) a run that takes longer, e.g. 5m")
    .option(
      "--stall-limit <time>",
      "stop and fail (exit 3) when the producer or processor makes no progress this long and no fault explains it (default: workload.stallLimit, else 60s; 0 = off)",
    )
    .option("--quiet", "no progress output on stderr", false)
    .option("--dry-run", "print the plan (topics, groups, proxies, fault schedule) and exit", false)
    .action(async (opts) => setCode(await runCommand(opts)));

  program
    .command("explore")
    .description(
      "search random fault schedules until the profile's claim breaks, then shrink the schedule to a minimal replay",
    )
    .requiredOption(
      "--profile <name|file>",
      "built-in profile name or a YAML/JSON file (its own faults are not used)",
    )
    .addOption(bootstrapOption())
    .addOption(toxiproxyOption())
    .option("--budget <time>", "stop searching and shrinking after this long", "30m")
    .option("--runs <n>", "at most this many search trials", positive("--runs"))
    .option("--seed <n>", "seed of the exploration, to repeat it", wholeNumber("--seed"))
    .option(
      "--kinds <list>",
      "fault kinds to draw from: network, process, broker, app (default: every kind that fits)",
    )
    .option(
      "--replays <k>",
      "a finding, and each shrink step, must violate again in K of K replays",
      positive("--replays"),
      3,
    )
    .option(
      "--messages <n>",
      "messages per trial (overrides the profile)",
      wholeNumber("--messages"),
    )
    .option(
      "--client <name>",
      "client library of the producer and processor: kafkajs or librdkafka",
    )
    .option("--trial-timeout <time>", "stop a trial that runs longer and count it as exit 3", "5m")
    .option("--out <dir>", "directory for the trials, summary.json and replay.yaml")
    .action(async (opts) => setCode(await exploreCommand(opts)));

  program
    .command("compare")
    .description("run several profiles on the same workload and faults; compare speed and safety")
    .requiredOption("--profiles <list>", "comma-separated profile names or files")
    .addOption(bootstrapOption())
    .addOption(toxiproxyOption())
    .option(
      "--messages <n>",
      "messages per run (overrides the profiles)",
      wholeNumber("--messages"),
    )
    .option(
      "--rate <n>",
      "messages/s for every run; 0 = as fast as possible",
      wholeNumber("--rate"),
      0,
    )
    .option("--seed <n>", "seed of the shared fault schedule", wholeNumber("--seed"))
    .option("--fault <spec>", "fault for every run, repeatable ('none' for none)", collect, [])
    .option(
      "--repeats <n>",
      "runs of each profile, interleaved (A B C A B C …); the table shows median and range",
      positive("--repeats"),
      1,
    )
    .option(
      "--stall-limit <time>",
      "fail (exit 3) a run whose producer or processor makes no progress this long with no fault to explain it",
    )
    .option("--out <dir>", "directory for the runs (default ./kafka-chaos-runs/compare-<time>)")
    .option(
      "--json <file>",
      "write the results as JSON to a file, or - for stdout instead of the table",
    )
    .action(async (opts) => setCode(await compareCommand(opts)));

  program
    .command("reconcile")
    .description("re-judge a finished or interrupted run from its directory")
    .argument("<run-dir>")
    .option("--json <file>", "write the JSON report to a file, or - for stdout")
    .option("--junit <file>", "write a JUnit XML report (one test case per hop)")
    .action(async (dir: string, opts) => setCode(await reconcileCommand(dir, opts)));

  program
    .command("report")
    .description("(re)build a run's self-contained HTML report (report.html) from its directory")
    .argument("<run-dir>")
    .option("--html <file>", "write it here instead of <run-dir>/report.html")
    .action(async (dir: string, opts) => setCode(await reportCommand(dir, opts)));

  program
    .command("profiles")
    .description("list the built-in profiles, or show one")
    .argument("[name]")
    .action(async (name?: string) => setCode(await profilesCommand(name)));

  program
    .command("doctor")
    .description("check the cluster and Toxiproxy a run would use")
    .addOption(bootstrapOption())
    .addOption(toxiproxyOption())
    .option("--topic-prefix <prefix>", "the prefix your runs will use (default kc)")
    .action(async (opts) => setCode(await doctorCommand(opts)));

  program
    .command("cleanup")
    .description("remove proxies, toxics, topics, groups and sink tables left behind by runs")
    .addOption(bootstrapOption())
    .addOption(toxiproxyOption())
    .option("--dry-run", "only list what would be removed", false)
    .option(
      "--older-than <time>",
      "only runs started longer ago than this (0 = all but live runs)",
      "15m",
    )
    .option(
      "--pg-url <url>",
      "PostgreSQL server of the runs' sink tables (default $KAFKA_CHAOS_PG_URL, else the local stack's)",
    )
    .action(async (opts) => setCode(await cleanupCommand(opts)));
  const proxied = ["run", "explore", "compare", "doctor"];
  for (const cmd of program.commands) if (proxied.includes(cmd.name())) withProxyOptions(cmd);
  const secured = ["run", "explore", "compare", "reconcile", "doctor", "cleanup"];
  for (const cmd of program.commands) if (secured.includes(cmd.name())) withConnection(cmd);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    const code = reportError(err);
    // A run that failed leaves no verdict to wait for, but may leave a client retrying against
    // what vanished (kafkajs gives up on a batch only after ~15 s): it must not hold the exit.
    // Everything the run owns (history, proxies) was closed before the error got here.
    if (code === 3) setTimeout(() => process.exit(code), 1000).unref();
    return code;
  }
}

/** One clear line per failure; a stack trace only for the unforeseen, and only with DEBUG set. */
export function reportError(err: unknown): number {
  const e = err as { code?: string; exitCode?: number };
  if (typeof e.code === "string" && e.code.startsWith("commander.")) {
    const quiet = ["commander.helpDisplayed", "commander.version", "commander.help"];
    return quiet.includes(e.code) ? 0 : 2;
  }
  // Whatever a library put in its message, the SASL password never reaches the terminal.
  const secret = process.env[PASSWORD_ENV];
  const safe = (text: string) => (secret ? text.split(secret).join("***") : text);
  if (err instanceof KafkaChaosError) {
    console.error(`kafka-chaos: ${safe(err.message)}`);
  } else {
    const detail = process.env.DEBUG ? ((err as Error).stack ?? String(err)) : String(err);
    console.error(`kafka-chaos: unexpected failure, the run could not be judged: ${safe(detail)}`);
  }
  return exitCodeOf(err);
}

function wholeNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new UsageError(`${flag}: expected a whole number, got "${value}"`);
    }
    return n;
  };
}

function positive(flag: string): (value: string) => number {
  const whole = wholeNumber(flag);
  return (value) => {
    const n = whole(value);
    if (n < 1) throw new UsageError(`${flag}: expected 1 or more, got "${value}"`);
    return n;
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
