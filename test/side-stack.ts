import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";

const STACK = fileURLToPath(new URL("../bin/stack.js", import.meta.url));

/**
 * A 3-node local stack beside the 1-node test stack: its own state directory (in a fresh temp
 * folder, `work`) and every port shifted by `offset`, so nothing of the other stack is touched.
 */
export function sideStack(offset: number, name: string) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `kc-${name}-`));
  const env = {
    ...process.env,
    KAFKA_CHAOS_STACK_DIR: path.join(work, "stack"),
    KAFKA_CHAOS_PORT_OFFSET: String(offset),
  };
  const bootstrap = [1, 2, 3].map((n) => `127.0.0.1:${9091 + offset + n}`).join(",");
  const toxiproxy = `http://127.0.0.1:${8474 + offset}`;
  /** `npm run stack -- ARGS` for this stack; rejects with its stderr when it fails. */
  const stack = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, [STACK, ...args], { env, timeout: 150_000 }, (err, out, stderr) =>
        err ? reject(new Error(`stack ${args.join(" ")}: ${stderr}`)) : resolve(out),
      );
    });
  const remove = async () => {
    await stack("down").catch(() => {});
    fs.rmSync(work, { recursive: true, force: true });
  };
  return { work, env, bootstrap, toxiproxy, stack, remove };
}

/** Inside a describe: the side stack comes up before its tests and goes away after them. */
export function upAroundTests(side: ReturnType<typeof sideStack>): void {
  beforeAll(async () => {
    const out = await side.stack("up", "--brokers", "3");
    expect(out).toContain(`KAFKA_CHAOS_BOOTSTRAP=${side.bootstrap}`);
  }, 180_000);
  afterAll(() => side.remove(), 120_000);
}
