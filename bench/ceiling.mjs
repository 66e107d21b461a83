// The cluster's own ceiling: Kafka's Java ProducerPerformance (kafka-producer-perf-test) against
// the same broker, direct (no proxy), 100-byte records, acks=all, on a topic the caller created.
// kafka-tools is fetched once with Maven into the cache, as the stack fetches the broker.
import { spawn } from "node:child_process";
import path from "node:path";
import { ensureKafkaTools } from "../dist/stack/install.js";
import { readState } from "../dist/stack/stack.js";

/**
 * The summary line ProducerPerformance prints last:
 * "1000000 records sent, 216450.2 records/sec (20.64 MB/sec), 93.10 ms avg latency, …"
 * → { records, perSecond, avgLatencyMs }, or undefined when there is none.
 */
export function parseSummary(output) {
  const lines = output.trim().split("\n").reverse();
  for (const line of lines) {
    const m = line.match(
      /^(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), ([\d.]+) ms avg latency/,
    );
    if (m) return { records: Number(m[1]), perSecond: Number(m[2]), avgLatencyMs: Number(m[3]) };
  }
  return undefined;
}

/** The classpath of ProducerPerformance; throws (InfrastructureError) without java or mvn. */
export async function ceilingClasspath(log = (line) => console.log(line)) {
  // The tools of the Kafka version the local stack runs (the default when there is none).
  const libs = await ensureKafkaTools(log, readState()?.kafka);
  return `${path.join(libs, "*")}`;
}

/**
 * One ProducerPerformance run: `messages` records of `recordSize` bytes to `topic` as fast as it
 * goes. Resolves with its summary; rejects on a non-zero exit, a missing summary or `signal`.
 */
export function runCeiling({ classpath, bootstrap, topic, messages, recordSize, signal }) {
  const args = [
    "-cp",
    classpath,
    "org.apache.kafka.tools.ProducerPerformance",
    "--topic",
    topic,
    "--num-records",
    String(messages),
    "--record-size",
    String(recordSize),
    "--throughput",
    "-1",
    "--producer-props",
    `bootstrap.servers=${bootstrap}`,
    "acks=all",
    // Fail fast instead of blocking 60 s per record when the topic or broker is missing.
    "max.block.ms=10000",
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("java", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const abort = () => child.kill("SIGTERM");
    signal?.addEventListener("abort", abort, { once: true });
    child.on("error", (e) => reject(e));
    child.on("exit", (code, sig) => {
      signal?.removeEventListener("abort", abort);
      const summary = parseSummary(out);
      if (code === 0 && summary) return resolve(summary);
      const tail = `${err}${out}`.trim().split("\n").slice(-5).join(" | ");
      reject(new Error(`ProducerPerformance ${sig ?? `exit ${code}`}: ${tail}`));
    });
  });
}
