import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../errors.js";
import type { AppSettings } from "../profiles/schema.js";

const POLL_MS = 100;

/**
 * Waits until an instance is ready: its log shows the line, its port (port + instance) takes a
 * connection, or the delay has passed. An exit first, or the timeout, is an AppError naming what
 * the app last wrote.
 */
export async function waitReady(opts: {
  child: ChildProcess;
  ready: AppSettings["ready"];
  timeoutMs: number;
  instance: number;
  log: string;
}): Promise<void> {
  const { child, ready, instance, log } = opts;
  const deadline = Date.now() + opts.timeoutMs;
  const check = readinessCheck(ready, instance, log);
  const startedAt = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new AppError(
        `instance ${instance} exited (${child.signalCode ?? `exit ${child.exitCode}`}) before it was ready; it last wrote: ${lastWritten(log)}`,
      );
    }
    if (await check(Date.now() - startedAt)) return;
    if (Date.now() > deadline) {
      throw new AppError(
        `instance ${instance} was not ready within ${Math.round(opts.timeoutMs / 1000)}s (waiting for ${describe(ready, instance)}); it last wrote: ${lastWritten(log)}`,
      );
    }
    await sleep(POLL_MS);
  }
}

function readinessCheck(
  ready: AppSettings["ready"],
  instance: number,
  log: string,
): (elapsed: number) => Promise<boolean> {
  if ("delay" in ready) return async (elapsed) => elapsed >= ready.delay;
  if ("port" in ready) return () => accepts(ready.port + instance);
  const pattern = new RegExp(ready.log);
  return async () => pattern.test(readText(log));
}

function describe(ready: AppSettings["ready"], instance: number): string {
  if ("delay" in ready) return `${ready.delay} ms`;
  if ("port" in ready) return `port ${ready.port + instance} to accept connections`;
  return `a line matching /${ready.log}/`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** What an instance last wrote, and where: for the one line of an error. */
export function lastWritten(log: string): string {
  return `${lastLines(log, 3) || "(nothing)"} [${log}]`;
}

/** The last `n` non-empty lines of a log, joined with " | " (each cut to 200 characters). */
export function lastLines(file: string, n: number): string {
  return readText(file)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .slice(-n)
    .map((l) => (l.length > 200 ? `${l.slice(0, 200)}…` : l))
    .join(" | ");
}
