import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { describe, expect, it } from "vitest";
import type { Report } from "../src/report/report.js";
import { runCli, toxiproxyUrl } from "./helpers.js";

const secure = inject("secure");
const PASSWORD = secure ? readPassword(secure.saslEnv) : "";

/** The password lives only in the stack's env file; the test reads it from there. */
function readPassword(envFile: string): string {
  const line = fs
    .readFileSync(envFile, "utf8")
    .split("\n")
    .find((l) => l.includes("SASL_PASSWORD="));
  return line?.split("=").slice(1).join("=") ?? "";
}

function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
    );
}

describe.skipIf(!secure)("secure connections through the proxies", () => {
  const s = secure!;
  const runArgs = (out: string, extra: string[]) => [
    "run",
    "--profile",
    "at-least-once",
    "--messages",
    "3000",
    "--fault",
    "drop-acks",
    "--toxiproxy",
    toxiproxyUrl(),
    "--out",
    out,
    "--json",
    "-",
    ...extra,
  ];

  it.each(["scram-sha-256", "scram-sha-512"])(
    "SASL_SSL with %s: a real chaos run, password nowhere in output or files",
    async (mechanism) => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-sasl-"));
      const r = await runCli(
        runArgs(out, [
          "--bootstrap",
          s.saslBootstrap,
          "--ssl-ca",
          s.caFile,
          "--sasl",
          mechanism,
          "--sasl-username",
          s.username,
        ]),
        120_000,
        { KAFKA_CHAOS_SASL_PASSWORD: PASSWORD },
      );
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.verdict).toBe("pass");
      expect(report.hops[0]?.duplicated).toBeGreaterThan(0); // the fault really hit the TLS traffic
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      for (const f of allFiles(out)) expect(fs.readFileSync(f, "utf8"), f).not.toContain(PASSWORD);
    },
  );

  it("mutual TLS with a client certificate: a real chaos run", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-mtls-"));
    const r = await runCli(
      runArgs(out, [
        "--bootstrap",
        s.mtlsBootstrap,
        "--ssl-ca",
        s.caFile,
        "--ssl-cert",
        s.clientCert,
        "--ssl-key",
        s.clientKey,
      ]),
      120_000,
      {},
    );
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Report).verdict).toBe("pass");
    const key = fs.readFileSync(s.clientKey, "utf8").split("\n")[1] ?? "";
    for (const f of allFiles(out)) expect(fs.readFileSync(f, "utf8")).not.toContain(key);
  });

  it("a wrong password exits 3 with one clear line, and the password appears nowhere", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-badpw-"));
    const wrong = "Wrong-Passw0rd-9f8e7d";
    const r = await runCli(
      runArgs(out, [
        "--bootstrap",
        s.saslBootstrap,
        "--ssl-ca",
        s.caFile,
        "--sasl",
        "scram-sha-512",
        "--sasl-username",
        s.username,
      ]),
      120_000,
      { KAFKA_CHAOS_SASL_PASSWORD: wrong },
    );
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/authentication failed/i);
    expect(r.stderr).toContain(s.saslBootstrap);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    for (const f of fs.existsSync(out) ? allFiles(out) : [])
      expect(fs.readFileSync(f, "utf8")).not.toContain(wrong);
  });

  it("without trusting the CA the TLS connection is refused (exit 3); --insecure is only taken when asked", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-noca-"));
    const r = await runCli(
      runArgs(out, [
        "--bootstrap",
        s.saslBootstrap,
        "--ssl",
        "--sasl",
        "scram-sha-512",
        "--sasl-username",
        s.username,
      ]),
      120_000,
      { KAFKA_CHAOS_SASL_PASSWORD: PASSWORD },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/certificate/i);
  });
});
