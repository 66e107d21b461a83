import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { bootstrap, runCli, toxiproxyUrl } from "./helpers.js";

/**
 * The README's copy-paste examples, run for real against the local stack: every `npx kafka-chaos`
 * line of its shell blocks. `run` examples are run with --dry-run (same parsing and refusals as a
 * real run, nothing created); `compare` runs for real with few messages, `explore` for one trial; the rest as written.
 */
const README = fs.readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
const secure = inject("secure");

interface Example {
  line: string;
  args: string[];
  envFile?: string;
}

function examples(): Example[] {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  const lines = blocks.flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"));
  return lines
    .filter((l) => l.includes("npx kafka-chaos") && !l.includes("9093")) // 9093: the Docker cluster
    .map((line) => {
      const source = /^\(source (\S+) && (.*)\)\s*$/.exec(line.trim());
      const command = (source?.[2] ?? line).replace(/\s+#.*$/, "").trim();
      const args = split(command.replace(/^npx kafka-chaos\s*/, ""));
      return { line, args, ...(source ? { envFile: source[1] } : {}) };
    });
}

/** Shell words, with single-quoted words kept whole. */
function split(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
}

/** The README's own example profile, for the examples that name a profile file. */
function exampleProfile(): string {
  const section = README.slice(README.indexOf("## Writing your own profile"));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!yaml) throw new Error("README has no example profile");
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-readme-")), "orders.yaml");
  fs.writeFileSync(file, yaml);
  return file;
}

function envOf(file: string | undefined): Record<string, string> {
  const base = { KAFKA_CHAOS_BOOTSTRAP: bootstrap(), TOXIPROXY_URL: toxiproxyUrl() };
  if (!file) return base;
  const certs = path.dirname(secure?.saslEnv ?? "");
  const text = fs.readFileSync(path.join(certs, path.basename(file)), "utf8");
  const vars = Object.fromEntries(
    [...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]),
  );
  return { ...base, ...vars };
}

describe("README examples", () => {
  const all = examples();
  const profile = exampleProfile();

  it("has examples for the three ways of use", () => {
    expect(all.length).toBeGreaterThanOrEqual(10);
  });

  for (const example of all) {
    const needsSecure = example.envFile !== undefined;
    it.skipIf(needsSecure && !secure)(
      example.line.trim(),
      async () => {
        const args = example.args.map((a) => (/\.ya?ml$/.test(a) ? profile : a));
        const [command] = args;
        if (command === "run") args.push("--dry-run");
        if (command === "explore") {
          const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-readme-"));
          args.push("--runs", "1", "--messages", "1500", "--out", out);
        }
        if (command === "compare")
          args.push(
            "--messages",
            "1500",
            "--out",
            fs.mkdtempSync(path.join(os.tmpdir(), "kc-readme-")),
          );
        const r = await runCli(args, 180_000, envOf(example.envFile));
        expect(r.code, `${example.line}\n${r.stderr}`).toBe(0);
      },
      200_000,
    );
  }
});
