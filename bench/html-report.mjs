// HTML report scale benchmark: writes a synthetic run directory (history.jsonl with batches of
// 100, a processor history with chunks of 100, fault windows, a worker crash, some failed and
// unknown batches) and times building its report.html, as `kafka-chaos report` does.
//   npm run build && node bench/html-report.mjs [messages ...]     (default: 20000 1000000)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { writeRunHtml } from "../dist/run/html.js";

const BATCH = Number(process.env.KC_BENCH_BATCH ?? 100); // messages per send (and per chunk)
const RATE = 2000; // messages/s: the synthetic run's wall time is messages / RATE

function lines(file, generate) {
  const fd = fs.openSync(file, "w");
  let buffer = [];
  for (const event of generate()) {
    buffer.push(JSON.stringify(event));
    if (buffer.length >= 10_000) {
      fs.writeSync(fd, buffer.join("\n") + "\n");
      buffer = [];
    }
  }
  if (buffer.length > 0) fs.writeSync(fd, buffer.join("\n") + "\n");
  fs.closeSync(fd);
  return fs.statSync(file).size;
}

function synthetic(dir, messages) {
  const durationMs = Math.round((messages / RATE) * 1000) + 2000;
  const msAt = (seq) => Math.round((seq / RATE) * 1000);
  const faults = [
    {
      type: "drop-acks#1",
      target: "leader (broker-1)",
      startMs: durationMs * 0.2,
      endMs: durationMs * 0.3,
    },
    {
      type: "cut-connection#2",
      target: "all of producer",
      startMs: durationMs * 0.5,
      endMs: durationMs * 0.55,
    },
  ].map((f) => ({ ...f, startMs: Math.round(f.startMs), endMs: Math.round(f.endMs) }));
  const crash = {
    worker: "0.0",
    point: "after-process-before-commit",
    time: Math.round(durationMs * 0.7),
  };
  const historyBytes = lines(path.join(dir, "history.jsonl"), function* () {
    yield {
      type: "run",
      runId: "bench",
      profile: "at-least-once",
      seed: 1,
      startedAt: new Date(0).toISOString(),
      topics: { input: "i", output: "o" },
      acks: -1,
    };
    for (const f of faults) {
      yield { type: "fault", phase: "start", fault: f.type, target: f.target, time: f.startMs };
    }
    for (let from = 0; from < messages; from += BATCH) {
      const to = Math.min(messages, from + BATCH) - 1;
      const t = msAt(from);
      const inFault = faults.some((f) => f.startMs <= t && t <= f.endMs);
      yield { type: "invoke", producer: 0, from, to, time: t };
      const outcome = inFault ? (from % 300 === 0 ? "fail" : "unknown") : "ok";
      const latency = inFault ? 2000 + (from % 1000) : 5 + (from % 40);
      yield {
        type: outcome,
        producer: 0,
        from,
        to,
        time: t + latency,
        ...(outcome === "ok"
          ? {}
          : { error: "KafkaJSRequestTimeoutError: Request Produce(key: 0, version: 7) timed out" }),
      };
    }
    for (const f of faults) {
      yield { type: "fault", phase: "stop", fault: f.type, target: f.target, time: f.endMs };
    }
    yield {
      type: "worker",
      phase: "crash",
      worker: crash.worker,
      point: crash.point,
      time: crash.time,
    };
    yield { type: "end", time: durationMs, reason: "completed" };
  });
  const processorBytes = lines(path.join(dir, "processor-0-0.jsonl"), function* () {
    for (let from = 0; from < messages; from += BATCH) {
      const to = Math.min(messages, from + BATCH) - 1;
      const items = [];
      for (let s = from; s <= to; s++) items.push([0, s]);
      yield {
        type: "processed",
        worker: "0.0",
        partition: from % 3,
        fromOffset: from,
        toOffset: to,
        items,
        outcome: "ok",
        time: msAt(from) + 300,
      };
    }
  });
  const examples = Array.from(
    { length: 10 },
    (_, i) => `0:${Math.floor((messages * (0.2 + i / 200)) / BATCH) * BATCH + i}`,
  );
  const hop = (name, duplicated) => ({
    name,
    in: messages,
    out: messages,
    lost: 0,
    lostAcked: 0,
    lostUnacked: 0,
    duplicated,
    reordered: 0,
    abortedReads: 0,
    abortedVisible: 0,
    unexpected: 0,
    examples: {
      lost: [],
      lostAcked: [],
      lostUnacked: [],
      duplicated: duplicated ? examples : [],
      reordered: [],
      abortedReads: [],
      unexpected: [],
    },
    allowed: { loss: "unacked", duplicates: true, reorder: true },
    ok: true,
  });
  const report = {
    runId: "bench",
    profile: "at-least-once",
    claims: "at-least-once",
    seed: 1,
    startedAt: new Date(0).toISOString(),
    durationMs,
    messages: { attempted: messages, acked: messages, failed: 0, unknown: 0 },
    faults,
    hops: [
      hop("producer-broker", 500),
      hop("broker-consumer", 0),
      hop("processor-output", 0),
      hop("end-to-end", 500),
    ],
    processor: { processed: messages, aborted: 0, unknown: 0, workers: ["0.0"], crashes: [crash] },
    violations: [],
    verdict: "pass",
    relaxed: [],
    unconfirmed: { messages: 0, partitions: [] },
    errors: [
      {
        outcome: "unknown",
        error: "KafkaJSRequestTimeoutError: Request Produce(key: 0, version: 7) timed out",
        sends: 10,
        messages: 1000,
      },
    ],
    complete: true,
    endReason: "completed",
    warnings: [],
  };
  fs.writeFileSync(path.join(dir, "report.json"), JSON.stringify(report, null, 2));
  // enough of run.json for `kafka-chaos report DIR` to take the directory as a run
  fs.writeFileSync(
    path.join(dir, "run.json"),
    JSON.stringify({ runId: "bench", profile: { name: "at-least-once" }, seed: 1 }),
  );
  return { report, historyBytes, processorBytes };
}

const counts = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [20_000, 1_000_000];
const mb = (bytes) =>
  bytes < 1e6 ? `${(bytes / 1e3).toFixed(0)} KB` : `${(bytes / 1e6).toFixed(1)} MB`;
for (const messages of counts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-bench-html-"));
  try {
    const { report, historyBytes, processorBytes } = synthetic(dir, messages);
    const t0 = performance.now();
    const file = await writeRunHtml(dir, report, [path.join(dir, "processor-0-0.jsonl")]);
    const ms = performance.now() - t0;
    const size = fs.statSync(file).size;
    console.log(
      `html report: ${messages} messages (history ${mb(historyBytes)}, processor history ${mb(processorBytes)}, ` +
        `${(report.durationMs / 1000).toFixed(0)} s of run): report.html ${(size / 1024).toFixed(0)} KB, built in ${ms.toFixed(0)} ms`,
    );
  } finally {
    // KC_BENCH_KEEP=1 keeps the run directories, e.g. to open their report.html in a browser.
    if (process.env.KC_BENCH_KEEP === "1") console.log(`  kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}
