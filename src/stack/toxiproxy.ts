import fs from "node:fs";
import path from "node:path";
import { HOST, STATE_DIR, TOXIPROXY_PORT } from "./paths.js";
import { startDetached } from "./process.js";

export const TOXIPROXY_URL = `http://${HOST}:${TOXIPROXY_PORT}`;
export const toxiproxyLog = path.join(STATE_DIR, "toxiproxy.log");
export const toxiproxyPid = path.join(STATE_DIR, "toxiproxy.pid");

export function startToxiproxy(bin: string): number {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  return startDetached(
    bin,
    ["-host", HOST, "-port", String(TOXIPROXY_PORT)],
    toxiproxyLog,
    toxiproxyPid,
  );
}

/** True when a Toxiproxy server answers its version endpoint at the URL. */
export async function toxiproxyAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/version`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok;
  } catch {
    return false;
  }
}
