// Reconciler scale benchmark: 10M synthetic messages (2 producers, 6 partitions, some
// losses and duplicates), streamed from generators. Targets: ≤ 10 s, ≤ 32 bytes/message.
//   npx tsc -p tsconfig.build.json && node --expose-gc bench/reconcile.mjs [messages]
import { performance } from "node:perf_hooks";
import { Reconciler } from "../dist/reconcile/reconcile.js";

const MESSAGES = Number(process.argv[2] ?? 10_000_000);
const PRODUCERS = 2;
const PARTITIONS = 6;
const BATCH = 1000;
const LOST_EVERY = 1000;
const DUPLICATED_EVERY = 777;
const UNKNOWN_BATCH_EVERY = 50;
const PER_PRODUCER = Math.ceil(MESSAGES / PRODUCERS);

function* history() {
  yield {
    type: "run",
    runId: "bench",
    profile: "at-least-once",
    seed: 1,
    startedAt: new Date(0).toISOString(),
    topics: { input: "bench" },
    acks: -1,
  };
  for (let from = 0; from < PER_PRODUCER; from += BATCH) {
    const to = Math.min(PER_PRODUCER, from + BATCH) - 1;
    const outcome = (from / BATCH) % UNKNOWN_BATCH_EVERY === 0 ? "unknown" : "ok";
    for (let producer = 0; producer < PRODUCERS; producer++) {
      yield { type: "invoke", producer, from, to, time: from };
      yield { type: outcome, producer, from, to, time: to };
    }
  }
  yield { type: "end", time: PER_PRODUCER, reason: "completed" };
}

function* records() {
  const offsets = new Array(PARTITIONS).fill(0);
  for (let seq = 0; seq < PER_PRODUCER; seq++) {
    if (seq % LOST_EVERY === 0) continue;
    const copies = seq % DUPLICATED_EVERY === 0 ? 2 : 1;
    for (let producer = 0; producer < PRODUCERS; producer++) {
      const partition = (seq + producer) % PARTITIONS;
      for (let c = 0; c < copies; c++) {
        yield { partition, offset: offsets[partition]++, producer, seq };
      }
    }
  }
}

function memory() {
  globalThis.gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

function multiples(k, below) {
  return Math.ceil(below / k);
}

function expected() {
  const lost = multiples(LOST_EVERY, PER_PRODUCER);
  const duplicated =
    multiples(DUPLICATED_EVERY, PER_PRODUCER) -
    multiples(DUPLICATED_EVERY * LOST_EVERY, PER_PRODUCER);
  return { lost: lost * PRODUCERS, duplicated: duplicated * PRODUCERS };
}

/** Seconds spent just generating the input, to tell it apart from reconciling. */
function timeInputOnly() {
  const start = performance.now();
  let items = 0;
  for (const e of history()) items += e.type ? 1 : 0;
  for (const r of records()) items += r.seq >= 0 ? 1 : 0;
  if (items === 0) throw new Error("no input");
  return (performance.now() - start) / 1000;
}

function main() {
  if (!globalThis.gc) console.warn("run with --expose-gc for exact memory numbers");
  const attempted = PER_PRODUCER * PRODUCERS;
  const inputSeconds = timeInputOnly();

  const before = memory();
  const start = performance.now();
  const reconciler = new Reconciler();
  for (const e of history()) reconciler.addEvent(e);
  for (const r of records()) reconciler.addRecord(r);
  const fed = performance.now();
  const retained = memory() - before;
  const resumed = performance.now();
  const hop = reconciler.result().hops[0];
  const seconds = (fed - start + performance.now() - resumed) / 1000;

  const want = expected();
  const correct = hop.lost === want.lost && hop.duplicated === want.duplicated;
  console.log(`messages        ${attempted.toLocaleString("en")}`);
  console.log(`lost            ${hop.lost} (expected ${want.lost})`);
  console.log(`duplicated      ${hop.duplicated} (expected ${want.duplicated})`);
  console.log(
    `reconcile       ${seconds.toFixed(2)} s (input generators alone: ${inputSeconds.toFixed(2)} s)`,
  );
  console.log(`throughput      ${Math.round(attempted / seconds).toLocaleString("en")} msgs/s`);
  console.log(`10M messages    ${((seconds * 1e7) / attempted).toFixed(2)} s (target ≤ 10 s)`);
  console.log(`memory          ${(retained / attempted).toFixed(2)} bytes/message (target ≤ 32)`);
  if (!correct) {
    console.error("wrong counts");
    process.exitCode = 1;
  }
}

main();
