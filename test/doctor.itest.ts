import { expect, it } from "vitest";
import { bootstrap, runCli, toxiproxyUrl } from "./helpers.js";

it("doctor passes every check on a healthy stack", async () => {
  const r = await runCli(["doctor", "--bootstrap", bootstrap(), "--toxiproxy", toxiproxyUrl()]);
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split("\n");
  expect(lines.filter((l) => l.startsWith("✓"))).toHaveLength(6);
  expect(r.stdout).toMatch(/✓ reader of record: librdkafka \S+ reaches the cluster/);
  expect(r.stdout).not.toContain("✗");
});

it("doctor names what is broken, with a fix, and exits 3", async () => {
  const r = await runCli([
    "doctor",
    "--bootstrap",
    bootstrap(),
    "--toxiproxy",
    "http://127.0.0.1:1",
  ]);
  expect(r.code).toBe(3);
  expect(r.stdout).toMatch(/✗ Toxiproxy: http:\/\/127\.0\.0\.1:1/);
  expect(r.stdout).toMatch(/fix: start Toxiproxy/);
  expect(r.stdout).toMatch(/✓ Kafka cluster/);
});
