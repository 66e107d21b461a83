/**
 * The user's own app as the processor stage, on the real stack: a small kafkajs app
 * (test/apps/copy-app.mjs) under crash-app, stop-app, pause-app and network faults on role app,
 * its known answers, and the bad inputs (each one line, the right exit code, nothing left).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hop, listTopics, pgUrl, proxyNames, runCli, runProfile, writeProfile } from "./helpers.js";
import { bootstrap, toxiproxyUrl } from "./helpers.js";

const APP = path.resolve(import.meta.dirname, "apps", "copy-app.mjs");

function appProfile(opts: {
  claims?: string;
  env?: Record<string, string>;
  faults?: string[];
  extra?: string;
  command?: string;
  sink?: boolean;
  readyTimeout?: string;
}): string {
  const env = JSON.stringify(opts.env ?? {});
  const faults = (opts.faults ?? []).map((f) => `  - ${f}`).join("\n");
  return writeProfile(`
name: copy-app
claims: ${opts.claims ?? "at-least-once"}
app:
  command: ${opts.command ?? JSON.stringify(["node", APP])}
  env: ${env}
  ready: { log: "copy-app: ready" }
  readyTimeout: ${opts.readyTimeout ?? "20s"}
  catchUpTimeout: 60s
${opts.extra ?? ""}
${
  opts.sink
    ? `  sink:
    setup: ["CREATE TABLE {table} (id text NOT NULL)"]
    query: "SELECT id FROM {table}"
sink: { type: postgres, url: "${pgUrl()}" }`
    : ""
}
workload: { messages: 3000, rate: 1000 }
faults:${faults ? `\n${faults}` : " []"}
`);
}

async function leftovers(): Promise<{ topics: string[]; proxies: string[] }> {
  return {
    topics: (await listTopics()).filter((t) => t.startsWith("kc-")),
    proxies: (await proxyNames()).filter((p) => p.startsWith("kc-")),
  };
}

describe("the user's app under test", () => {
  it("at-least-once app under crash-app and a cut of its connections: no loss, exit 0", async () => {
    const { code, report } = await runProfile(
      appProfile({
        faults: ["crash-app:at=1000msg,restart=1s", "cut-connection:role=app,at=2000msg,for=2s"],
      }),
    );
    expect(code).toBe(0);
    expect(report.verdict).toBe("pass");
    expect(hop(report, "end-to-end").lost).toBe(0);
    expect(hop(report, "end-to-end").in).toBe(3000);
    expect(report.processor?.crashes.map((c) => c.point)).toEqual(["killed (SIGKILL)"]);
    expect(report.faults.map((f) => f.target)).toEqual(["app 0", "all of app"]);
    expect(report.app?.logs.length).toBe(2);
  }, 150_000);

  it("commits before writing (the bug): a crash loses records, exit 1 under at-least-once", async () => {
    const { code, report } = await runProfile(
      appProfile({
        env: { APP_COMMIT: "before", APP_GAP_MS: "400" },
        faults: ["crash-app:at=1500msg,restart=1s"],
      }),
    );
    expect(code).toBe(1);
    expect(report.verdict).toBe("violation");
    expect(hop(report, "broker-consumer").lost).toBeGreaterThan(0);
    expect(hop(report, "end-to-end").lostAcked).toBeGreaterThan(0);
  }, 150_000);

  it("stop-app and pause-app on two instances: no loss", async () => {
    const { code, report } = await runProfile(
      appProfile({
        extra: "  instances: 2",
        faults: ["stop-app:instance=1,at=800msg,restart=1s", "pause-app:at=1800msg,for=8s"],
      }),
    );
    expect(code).toBe(0);
    expect(hop(report, "end-to-end").lost).toBe(0);
    expect(report.processor?.crashes.map((c) => c.point)).toContain("stopped (exit 0)");
  }, 150_000);

  it("identity in the key: output without headers is still followed", async () => {
    const { code, report } = await runProfile(
      appProfile({ env: { APP_HEADERS: "drop" }, extra: "  identity: key" }),
    );
    expect(code).toBe(0);
    expect(hop(report, "end-to-end").in).toBe(3000);
    expect(hop(report, "end-to-end").unexpected).toBe(0);
  }, 150_000);

  it("a sink app is judged from its SQL query: a crash duplicates rows, allowed at-least-once", async () => {
    const { code, report } = await runProfile(
      appProfile({ sink: true, faults: ["crash-app:at=1500msg,restart=1s"] }),
    );
    expect(code).toBe(0);
    const sink = hop(report, "consumer-sink");
    expect(sink.in).toBe(3000);
    expect(sink.lost).toBe(0);
  }, 150_000);

  describe("bad input: one line, the right exit code, nothing left behind", () => {
    const cases: [string, Parameters<typeof appProfile>[0], number, RegExp][] = [
      [
        "a command that does not exist",
        { command: '["no-such-program-kc"]' },
        2,
        /app\.command: cannot start no-such-program-kc .*ENOENT/,
      ],
      [
        "an app that exits at once",
        { env: { APP_EXIT_AT_ONCE: "1" } },
        3,
        /app: instance 0 exited \(exit 4\) before it was ready; it last wrote: copy-app: cannot start/,
      ],
      [
        "an app that never becomes ready",
        { command: '["sleep", "60"]', readyTimeout: "3s" },
        3,
        /app: instance 0 was not ready within 3s \(waiting for a line matching/,
      ],
      [
        "an app whose output has no identity",
        { env: { APP_HEADERS: "drop" } },
        2,
        /none of the 3000 records in the output topic .* carries an identity; copy the headers kc-run/,
      ],
    ];
    for (const [name, opts, exit, message] of cases) {
      it(
        name,
        async () => {
          const before = await leftovers();
          const r = await runCli(
            [
              "run",
              "--profile",
              appProfile(opts),
              "--bootstrap",
              bootstrap(),
              "--toxiproxy",
              toxiproxyUrl(),
            ],
            120_000,
          );
          expect(r.code).toBe(exit);
          const lines = r.stderr
            .trim()
            .split("\n")
            .filter((l) => !l.startsWith("progress"));
          expect(lines.at(-1)).toMatch(message);
          expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
          expect(await leftovers()).toEqual(before);
        },
        150_000,
      );
    }
  });

  it("a network fault on the app without listeners is refused before anything is made (exit 2)", async () => {
    const r = await runCli(
      [
        "run",
        "--profile",
        appProfile({ faults: ["cut-connection:role=app,for=1s"], extra: "" }),
        "--bootstrap",
        bootstrap(),
        "--toxiproxy",
        toxiproxyUrl(),
      ],
      60_000,
      { KAFKA_CHAOS_STACK_DIR: "/nonexistent-kc-stack" },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a network fault on the app needs one extra listener per broker/);
  }, 90_000);
});
