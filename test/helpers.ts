import { Ajv } from "ajv";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import kafkajs from "kafkajs";
import type { Broker } from "../src/faults/proxies.js";
import type { HopResult } from "../src/reconcile/verdict.js";
import type { Report } from "../src/report/report.js";
import { kafkaClient } from "../src/clients/kafkajs.js";

export const bootstrap = (): string => inject("bootstrap");
export const toxiproxyUrl = (): string => inject("toxiproxyUrl");

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** A client straight to the cluster, no proxy: for setup, checks and cleanup. */
export function directClient(): kafkajs.Kafka {
  return kafkaClient({ clientId: "kafka-chaos-test", brokers: bootstrap().split(",") });
}

export async function brokersOf(kafka: kafkajs.Kafka): Promise<Broker[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    return brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port }));
  } finally {
    await admin.disconnect();
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export const CLI = fileURLToPath(new URL("../bin/kafka-chaos.js", import.meta.url));

/** Runs the built CLI as a user would, bounded in time. */
export function runCli(
  args: string[],
  timeoutMs = 90_000,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({
          code: typeof code === "number" ? code : null,
          stdout,
          stderr,
          ms: Date.now() - t0,
        });
      },
    );
  });
}

/** `run` against the test stack with the JSON report on stdout. */
export async function runProfile(
  profile: string,
  extra: string[] = [],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult & { report: Report }> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-test-"));
  const result = await runCli(
    [
      "run",
      "--profile",
      profile,
      "--bootstrap",
      bootstrap(),
      "--toxiproxy",
      toxiproxyUrl(),
      "--out",
      out,
      "--json",
      "-",
      ...extra,
    ],
    opts.timeoutMs,
    opts.env,
  );
  if (result.code !== 0 && result.code !== 1) {
    throw new Error(`run exited ${result.code}: ${result.stderr}`);
  }
  const report = JSON.parse(result.stdout) as Report;
  expectSchemaValid(report);
  return { ...result, report };
}

const validateReport = new Ajv({ strict: false }).compile(
  JSON.parse(
    fs.readFileSync(
      fileURLToPath(new URL("../schema/report.schema.json", import.meta.url)),
      "utf8",
    ),
  ) as object,
);

/** Every report a test reads is checked against the JSON Schema the package ships. */
export function expectSchemaValid(report: unknown): void {
  if (!validateReport(report)) {
    throw new Error(
      `report.json does not match schema/report.schema.json: ${JSON.stringify(validateReport.errors)}`,
    );
  }
}

export function hop(report: Report, name: string): HopResult {
  const found = report.hops.find((h) => h.name === name);
  if (!found) throw new Error(`no hop ${name} in report`);
  return found;
}

export async function proxyNames(): Promise<string[]> {
  const res = await fetch(`${toxiproxyUrl()}/proxies`);
  return Object.keys((await res.json()) as Record<string, unknown>);
}

/** A profile file in a fresh temp dir, for tests of user-written profiles. */
export function writeProfile(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-profile-"));
  const file = path.join(dir, "profile.yaml");
  fs.writeFileSync(file, yaml);
  return file;
}

export const pgUrl = (): string => inject("pgUrl");

/** Every topic on the test cluster, sorted: to check that a command created or left nothing. */
export async function listTopics(): Promise<string[]> {
  const admin = directClient().admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).sort();
  } finally {
    await admin.disconnect();
  }
}

/** A CLI run in the background, for tests that act on it while it runs. */
export interface LiveCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** the exit code and when it came */
  exited: Promise<{ code: number | null; at: number }>;
  /** the exit code, or "timeout" (the process is then killed) */
  exitWithin(ms: number): Promise<number | null | "timeout">;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = process.env): LiveCli {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on("exit", (code) => resolve({ code, at: Date.now() })),
  );
  const exitWithin = async (ms: number) => {
    const result = await Promise.race([exited, sleep(ms).then(() => "timeout" as const)]);
    if (result !== "timeout") return result.code;
    child.kill("SIGKILL");
    return result;
  };
  return { child, stdout: () => stdout, stderr: () => stderr, exited, exitWithin };
}
