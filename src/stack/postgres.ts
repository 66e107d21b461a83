import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { InfrastructureError } from "../errors.js";
import { HOST, LOCAL_POSTGRES_URL, POSTGRES_PORT, POSTGRES_USER, STATE_DIR } from "./paths.js";
import { livePid, startDetached, stopPid } from "./process.js";

/** The local PostgreSQL of `stack:up --postgres`: a cluster of its own, trust auth, 127.0.0.1. */
export const POSTGRES_DIR = path.join(STATE_DIR, "postgres");
const DATA_DIR = path.join(POSTGRES_DIR, "data");
export const postgresPid = path.join(POSTGRES_DIR, "postgres.pid");
export const postgresLog = path.join(POSTGRES_DIR, "postgres.log");
const ADDRESS = `${HOST}:${POSTGRES_PORT}`;

/** The server binaries: initdb on PATH, else Debian's newest /usr/lib/postgresql/<v>/bin. */
export function postgresBin(): string | undefined {
  const onPath = (process.env.PATH ?? "")
    .split(":")
    .find((dir) => dir !== "" && fs.existsSync(path.join(dir, "initdb")));
  if (onPath) return path.dirname(fs.realpathSync(path.join(onPath, "initdb")));
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : path.join(root, newest, "bin");
}

/** Starts the local PostgreSQL unless it runs; returns its URL once it accepts connections. */
export async function startPostgres(log: (line: string) => void): Promise<string> {
  if (livePid(postgresPid) !== undefined) return LOCAL_POSTGRES_URL;
  const bin = postgresBin();
  if (!bin) {
    throw new InfrastructureError(
      ADDRESS,
      "PostgreSQL server binaries not found; install them (Debian/Ubuntu: apt-get install postgresql)",
    );
  }
  const user = serverUser();
  if (!fs.existsSync(path.join(DATA_DIR, "PG_VERSION"))) initdb(bin, user, log);
  log(`starting PostgreSQL on ${ADDRESS}`);
  startDetached(
    path.join(bin, "postgres"),
    [
      "-D",
      DATA_DIR,
      "-c",
      `listen_addresses=${HOST}`,
      "-c",
      `port=${POSTGRES_PORT}`,
      // TCP only: a socket path under a deep project folder can exceed the 107-byte limit.
      "-c",
      "unix_socket_directories=",
    ],
    postgresLog,
    postgresPid,
    user,
  );
  await waitReady();
  return LOCAL_POSTGRES_URL;
}

/** Stops the local PostgreSQL by its pid (fast shutdown) and deletes its data. */
export async function stopPostgres(): Promise<boolean> {
  const stopped = await stopPid(postgresPid, 15_000, "SIGINT");
  fs.rmSync(POSTGRES_DIR, { recursive: true, force: true });
  return stopped;
}

/** Whether the local PostgreSQL accepts a connection. */
export async function postgresAnswers(url = LOCAL_POSTGRES_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function initdb(
  bin: string,
  user: { uid: number; gid: number } | undefined,
  log: (line: string) => void,
): void {
  log(`initdb ${DATA_DIR}`);
  fs.mkdirSync(DATA_DIR, { recursive: true, mode: 0o700 });
  if (user) for (const dir of [POSTGRES_DIR, DATA_DIR]) fs.chownSync(dir, user.uid, user.gid);
  const args = ["-D", DATA_DIR, "-U", POSTGRES_USER, "--auth=trust", "-E", "UTF8", "--no-sync"];
  const res = spawnSync(path.join(bin, "initdb"), args, { encoding: "utf8", ...user });
  if (res.status !== 0) {
    fs.rmSync(DATA_DIR, { recursive: true, force: true });
    const why = (res.stderr || res.error?.message || "").trim().split("\n").at(-1);
    throw new InfrastructureError(ADDRESS, `initdb failed: ${why}`);
  }
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    throw new InfrastructureError(
      ADDRESS,
      "running as root, and PostgreSQL refuses root: create a `postgres` system user (the Debian package does)",
    );
  }
}

async function waitReady(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await postgresAnswers())) {
    if (livePid(postgresPid) === undefined) {
      throw new InfrastructureError(
        ADDRESS,
        `PostgreSQL exited during start-up; read ${postgresLog}`,
      );
    }
    if (Date.now() > deadline) {
      throw new InfrastructureError(
        ADDRESS,
        `PostgreSQL not ready after ${timeoutMs / 1000}s; read ${postgresLog}`,
      );
    }
    await sleep(200);
  }
}
