// Runs every benchmark in turn as its own process and prints its output.
// Exits non-zero if any of them failed.   npm run bench   (builds first)
// Extra arguments go to the producer bench, e.g. `npm run bench -- --messages 50000`.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const extra = process.argv.slice(2);

const benches = [
  { name: "reconcile", file: "reconcile.mjs", node: ["--expose-gc"], args: [] },
  { name: "producer", file: "producer.mjs", node: [], args: extra },
];

let current;

function run(bench) {
  return new Promise((resolve) => {
    const child = (current = spawn(
      process.execPath,
      [...bench.node, path.join(here, bench.file), ...bench.args],
      { stdio: "inherit" },
    ));
    child.on("error", (err) => resolve({ code: 1, error: err.message }));
    child.on("exit", (code, signal) => resolve({ code: code ?? 1, signal }));
  });
}

// A terminal's Ctrl-C reaches the child too (same process group); a SIGTERM sent to this
// process alone is passed on. Either way the child is waited for, so it can clean up.
let interrupted = false;
process.on("SIGINT", () => (interrupted = true));
process.on("SIGTERM", () => {
  interrupted = true;
  current?.kill("SIGTERM");
});

const failed = [];
for (const bench of benches) {
  if (interrupted) break;
  console.log(`\n== ${bench.name} (${bench.file}) ==`);
  const started = Date.now();
  const result = await run(bench);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.code === 0) {
    console.log(`-- ${bench.name}: ok (${seconds} s)`);
  } else {
    const why = result.error ?? (result.signal ? `signal ${result.signal}` : `exit ${result.code}`);
    console.log(`-- ${bench.name}: FAILED (${why}, ${seconds} s)`);
    failed.push(bench.name);
  }
}

if (interrupted) {
  console.log("\nbench interrupted");
  process.exitCode = 130;
} else if (failed.length > 0) {
  console.log(`\nbench failed: ${failed.join(", ")}`);
  process.exitCode = 1;
} else {
  console.log("\nbench: all ok");
}
