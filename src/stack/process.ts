import { spawn } from "node:child_process";
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when the process has exited: no such pid, or a zombie (exited, not yet reaped by its
 * parent) whose threads are all gone too (a JVM's main thread turns Z before its others exit,
 * and those still hold its sockets).
 */
export function isGone(pid: number): boolean {
  if (!isAlive(pid)) return true;
  if (processState(pid) !== "Z") return false;
  try {
    return fs.readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

/** The pid in a pid file, or undefined when the file is missing or the process is gone (stale). */
export function livePid(pidFile: string): number | undefined {
  if (!fs.existsSync(pidFile)) return undefined;
  const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
  if (Number.isInteger(pid) && pid > 0 && !isGone(pid)) return pid;
  fs.rmSync(pidFile, { force: true });
  return undefined;
}

/** Starts a long-lived server detached from this process, output to a log file, pid to a pid file. */
export function startDetached(
  cmd: string,
  args: string[],
  logFile: string,
  pidFile: string,
  user?: { uid: number; gid: number },
): number {
  const out = fs.openSync(logFile, "a");
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", out, out], ...user });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  child.unref();
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  return child.pid;
}

/** `signal` (SIGTERM), then SIGKILL after the grace period; removes the pid file. */
export async function stopPid(
  pidFile: string,
  graceMs = 15_000,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<boolean> {
  const pid = livePid(pidFile);
  if (pid === undefined) return false;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  while (isAlive(pid)) await sleep(50);
  fs.rmSync(pidFile, { force: true });
  return true;
}

export function onPath(tool: string): boolean {
  return (process.env.PATH ?? "")
    .split(":")
    .some((dir) => dir !== "" && fs.existsSync(`${dir}/${tool}`));
}

/** The one-letter state in /proc/<pid>/stat (R, S, D, T stopped, Z, …); undefined off Linux. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S …": comm may hold spaces and parentheses, so look after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) || undefined;
  } catch {
    return undefined;
  }
}

/** True when the process is stopped by a signal (SIGSTOP): state T (or t, stopped by a tracer). */
export function isPaused(pid: number): boolean {
  const s = processState(pid);
  return s === "T" || s === "t";
}
