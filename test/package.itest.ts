import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import type { Report } from "../src/report/report.js";
import { bootstrap, toxiproxyUrl } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function sh(cmd: string, args: string[], cwd: string, timeout = 240_000): string {
  return execFileSync(cmd, args, {
    cwd,
    timeout,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

it("npm pack ships only what runs, and the installed package runs a real chaos run", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "kc-pack-"));
  const packed = JSON.parse(sh("npm", ["pack", "--json", "--pack-destination", work], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const files = packed[0]?.files.map((f) => f.path) ?? [];
  expect(files).toContain("bin/kafka-chaos.js");
  expect(files).toContain("dist/cli/main.js");
  expect(files).toContain("profiles/exactly-once.yaml");
  expect(files).toContain("README.md");
  expect(files).toContain("LICENSE");
  expect(files.filter((f) => /^(src|test|bench|\.ci)\/|\.test\.js$|\.itest\./.test(f))).toEqual([]);

  const app = path.join(work, "app");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "package.json"), '{ "name": "app", "private": true }\n');
  const tarball = path.join(work, packed[0]?.filename ?? "");
  sh("npm", ["install", "--no-audit", "--no-fund", "--omit=optional", tarball], app);

  expect(sh("npx", ["--no-install", "kafka-chaos", "--help"], app)).toMatch(/Usage: kafka-chaos/);
  const out = sh(
    "npx",
    [
      "--no-install",
      "kafka-chaos",
      "run",
      "--profile",
      "at-least-once",
      "--messages",
      "2000",
      "--fault",
      "none",
      "--bootstrap",
      bootstrap(),
      "--toxiproxy",
      toxiproxyUrl(),
      "--json",
      "-",
    ],
    app,
    120_000,
  );
  const report = JSON.parse(out) as Report;
  expect(report.verdict).toBe("pass");
  expect(report.messages.acked).toBe(2000);
}, 400_000);
