/**
 * Broker faults on a cluster the tool did not start go through the user's command templates.
 * The test points the CLI at an empty stack directory, so it does not take the test stack for
 * its own; the templates then pause and resume the test stack's broker through `npm run stack`,
 * as a user's would through ssh or docker.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PORT_OFFSET, STATE_DIR } from "../src/stack/paths.js";
import { bootstrap, runCli, toxiproxyUrl, writeProfile } from "./helpers.js";

const STACK = fileURLToPath(new URL("../bin/stack.js", import.meta.url));
/** Not the test stack's directory: the run must not recognise the cluster as the local stack. */
const elsewhere = { KAFKA_CHAOS_STACK_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "kc-none-")) };
const onTestStack = (action: string) =>
  `KAFKA_CHAOS_STACK_DIR='${STATE_DIR}' KAFKA_CHAOS_PORT_OFFSET=${PORT_OFFSET} '${process.execPath}' '${STACK}' ${action} {nodeId}`;

const profile = writeProfile(`
name: templates
claims: at-least-once
producer: { acks: all, retries: 30, requestTimeoutMs: 5000 }
workload: { messages: 8000, rate: 2000 }
processor: { enabled: false }
faults: [ "pause-broker:target=broker-1,at=1s,for=2s" ]
`);

function run(extra: string[], env: Record<string, string>) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-templates-"));
  const args = ["run", "--profile", profile, "--bootstrap", bootstrap(), "--toxiproxy"];
  return runCli([...args, toxiproxyUrl(), "--out", out, "--quiet", ...extra], 120_000, {
    ...elsewhere,
    ...env,
  });
}

describe("broker faults through command templates", () => {
  it("refuses a broker fault without its commands before creating anything (exit 2)", async () => {
    const { code, stderr } = await run([], {
      KAFKA_CHAOS_BROKER_PAUSE: onTestStack("pause"),
    });
    expect(code).toBe(2);
    expect(stderr).toContain("missing: KAFKA_CHAOS_BROKER_RESUME or brokers.commands.resume");
  });

  it("--dry-run prints the exact commands", async () => {
    const { code, stdout } = await run(["--dry-run"], {
      KAFKA_CHAOS_BROKER_PAUSE: "ssh {host} pkill -STOP java # port {port}",
      KAFKA_CHAOS_BROKER_RESUME: "ssh {host} pkill -CONT java",
    });
    expect(code).toBe(0);
    const [host, port] = bootstrap().split(",")[0]!.split(":");
    expect(stdout).toContain(`pause 1: ssh ${host} pkill -STOP java # port ${port}`);
    expect(stdout).toContain(`resume 1: ssh ${host} pkill -CONT java`);
  });

  it("pauses and resumes the real broker with the user's commands: the run passes", async () => {
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-templates-")), "r.json");
    const { code, stderr } = await run(["--json", json], {
      KAFKA_CHAOS_BROKER_PAUSE: onTestStack("pause"),
      KAFKA_CHAOS_BROKER_RESUME: onTestStack("resume"),
    });
    expect(code, stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(json, "utf8")) as {
      faults: { type: string; target: string; startMs: number; endMs: number }[];
    };
    expect(report.faults).toHaveLength(1);
    expect(report.faults[0]).toMatchObject({ type: "pause-broker#1", target: "broker-1" });
    // start and stop are written once each command has returned: about the 2 s of `for`
    expect(report.faults[0]!.endMs - report.faults[0]!.startMs).toBeGreaterThan(1000);
  });

  it("a command that fails ends the run with exit 3 and its stderr", async () => {
    const { code, stderr } = await run([], {
      KAFKA_CHAOS_BROKER_PAUSE: "echo 'no route to {host}' >&2; exit 7",
      KAFKA_CHAOS_BROKER_RESUME: onTestStack("resume"),
    });
    expect(code).toBe(3);
    expect(stderr).toContain("no route to 127.0.0.1");
  });
});
