#!/usr/bin/env node
// Repeats test/concurrent.itest.ts (four runs at once on the local stack, each judged against its
// known answer) and prints how many repeats passed. `npm run build` first; the stack must be up.
//
//   node scripts/concurrent.mjs [--repeats 10]
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { repeats: { type: "string", default: "10" } } });
const repeats = Number(values.repeats);
let passed = 0;
for (let i = 1; i <= repeats; i += 1) {
  const t0 = Date.now();
  const r = spawnSync(
    "npx",
    ["vitest", "run", "--project", "integration", "test/concurrent.itest.ts"],
    { cwd: ROOT, encoding: "utf8" },
  );
  const ok = r.status === 0;
  if (ok) passed += 1;
  const secs = Math.round((Date.now() - t0) / 1000);
  console.log(`repeat ${i}/${repeats}: ${ok ? "pass" : "FAIL"} (${secs}s)`);
  if (!ok)
    console.log(
      (r.stdout + r.stderr)
        .split("\n")
        .filter((l) => /FAIL|Error|expected/.test(l))
        .slice(0, 8)
        .join("\n"),
    );
}
console.log(`${passed} of ${repeats} repeats passed`);
process.exitCode = passed === repeats ? 0 : 1;
