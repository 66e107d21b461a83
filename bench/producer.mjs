// Producer benchmark, in one sitting on one cluster, rounds interleaved (c, a, b, c, a, b, …) to
// cancel drift:
//   (c) the ceiling: Kafka's own Java ProducerPerformance, direct to the broker (100-byte records,
//       acks=all, 3 partitions) — kafka-tools fetched once with Maven into the cache;
//   (a) a bare kafkajs producer through one Toxiproxy proxy;
//   (b) the tool's producer path (runProducer + a real HistoryWriter), same messages, same proxy;
//   (d) the tool's producer path at full speed: rate 0 with batches of --full-batch messages
//       (the workload's load, what a run with producer.batchSize set that high reaches);
//   (e) as (d) with --threads producers in worker threads (workload.producerThreads), the most
//       the kafkajs engine puts on the cluster;
//   (f) the tool's producer path on the librdkafka engine (client: librdkafka) at full speed,
//       batches of --rd-batch, direct to the broker as the ceiling is;
//   (g) as (f) with --threads producers, each in its own child process (workload.producerThreads),
//       the most the librdkafka engine puts on the cluster.
// Every producer figure is printed as a ratio to the ceiling; b/a is the tool's overhead.
// Targets: b/a ≥ 0.90 (design.md).
//   npm run build && node bench/producer.mjs [--messages 200000] [--rounds 3] [--warmup 20000]
//     [--ceiling-messages 1000000] [--no-ceiling] [--full-batch 1000] [--threads 2] [--rd-batch 10000]
//     [--rd-messages 1000000]
//     [--bootstrap 127.0.0.1:9092] [--toxiproxy http://127.0.0.1:8474] [--strict]
// --bootstrap/--toxiproxy default to $KAFKA_CHAOS_BOOTSTRAP/$KAFKA_CHAOS_TOXIPROXY, then the stack's.
// Exits non-zero on an error or a short count; with --strict also when b/a misses the target.
// Everything it creates is named kc-bench-* and removed at the end, also on error or Ctrl-C.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { ProxySet } from "../dist/faults/proxies.js";
import { HistoryWriter } from "../dist/history/writer.js";
import { loadProfile } from "../dist/profiles/load.js";
import { Cluster } from "../dist/run/cluster.js";
import { kafkaClient } from "../dist/clients/kafkajs.js";
import { runProducer } from "../dist/producer/producer.js";
import { runProducerThreads } from "../dist/producer/producer-threads.js";
import { ceilingClasspath, runCeiling } from "./ceiling.mjs";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "200000" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "20000" },
    "ceiling-messages": { type: "string", default: "1000000" },
    "no-ceiling": { type: "boolean", default: false },
    "full-batch": { type: "string", default: "1000" },
    threads: { type: "string", default: "2" },
    "rd-batch": { type: "string", default: "10000" },
    "rd-messages": { type: "string", default: "1000000" },
    strict: { type: "boolean", default: false },
    bootstrap: { type: "string", default: process.env.KAFKA_CHAOS_BOOTSTRAP ?? "127.0.0.1:9092" },
    toxiproxy: {
      type: "string",
      default: process.env.KAFKA_CHAOS_TOXIPROXY ?? "http://127.0.0.1:8474",
    },
  },
});
const MESSAGES = wholeArg("messages", 1);
const ROUNDS = wholeArg("rounds", 1);
const WARMUP = wholeArg("warmup", 0);
const CEILING_MESSAGES = wholeArg("ceiling-messages", 1);
const FULL_BATCH = wholeArg("full-batch", 1);
const THREADS = wholeArg("threads", 1);
const RD_BATCH = wholeArg("rd-batch", 1);
const RD_MESSAGES = wholeArg("rd-messages", 1);
const TARGET_RATIO = 0.9;
const BENCH_ID = `kc-bench-${Date.now().toString(36)}-${process.pid}`;
const RUN_ID = BENCH_ID;
// The headers the tool stamps on every message (src/identity/headers.ts).
const HEADER_RUN = "kc-run";
const HEADER_PRODUCER = "kc-producer";
const HEADER_SEQ = "kc-seq";

function wholeArg(name, min) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name}: expected a whole number ≥ ${min}, got ${args[name]}`);
    process.exit(2);
  }
  return n;
}

// Ctrl-C / SIGTERM stop the current round; the finally blocks then clean up. Repeats are
// ignored so that a second Ctrl-C cannot cut the cleanup short.
const stop = new globalThis.AbortController();
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (!stop.signal.aborted) {
      console.error(`\n${sig}: stopping, cleaning up kc-bench-* topics and proxies`);
    }
    stop.abort();
  });
}

/** Same messages as the tool's buildMessages: key k<seq % keys>, fixed payload, 3 string headers. */
function buildMessages(workload, producerId, from, to, payload) {
  const keys = workload.keys;
  const producer = String(producerId);
  const messages = new Array(to - from + 1);
  for (let seq = from; seq <= to; seq += 1) {
    messages[seq - from] = {
      key: keys > 0 ? `k${seq % keys}` : null,
      value: payload,
      headers: { [HEADER_RUN]: RUN_ID, [HEADER_PRODUCER]: producer, [HEADER_SEQ]: String(seq) },
    };
  }
  return messages;
}

/** The client settings of a producer routed through the proxy set, as the tool sets them. */
function clientOptions(proxies, profile, clientId) {
  return {
    clientId,
    brokers: proxies.brokers.map((b) => `${b.host}:${b.port}`),
    route: proxies.route(),
    requestTimeoutMs: profile.producer.requestTimeoutMs,
    retries: profile.producer.retries,
  };
}

/** A kafkajs client routed through the proxy set, configured as the tool configures it. */
function proxiedClient(proxies, profile, clientId) {
  return kafkaClient(clientOptions(proxies, profile, clientId));
}

/** (a) Bare kafkajs: same producer settings as the tool's ProducerClient, one send at a time. */
async function baseline({ proxies, profile, topic, messages }) {
  const settings = profile.producer;
  const kafka = proxiedClient(proxies, profile, `${BENCH_ID}-bare`);
  const payload = Buffer.alloc(profile.workload.messageSize, "x");
  const start = performance.now();
  const producer = kafka.producer({
    idempotent: settings.idempotent,
    maxInFlightRequests: settings.maxInFlight,
    allowAutoTopicCreation: false,
    retry: {
      retries: settings.retries,
      initialRetryTime: settings.retryBackoffMs,
      maxRetryTime: Math.max(settings.retryBackoffMs, 1000),
    },
  });
  let acked = 0;
  await producer.connect();
  try {
    for (let from = 0; from < messages && !stop.signal.aborted; from += settings.batchSize) {
      const to = Math.min(from + settings.batchSize, messages) - 1;
      await producer.send({
        topic,
        messages: buildMessages(profile.workload, 0, from, to, payload),
        acks: settings.acks,
      });
      acked += to - from + 1;
    }
  } finally {
    await producer.disconnect().catch(() => {});
  }
  const seconds = (performance.now() - start) / 1000;
  return { seconds, acked };
}

/** (b) The tool: runProducer with a real HistoryWriter on a temp file; counts the file writes. */
async function tool({ proxies, profile, topic, messages, tmpDir, label, threads = 0, client }) {
  const kafka = proxiedClient(proxies, profile, `${BENCH_ID}-tool`);
  const file = path.join(tmpDir, `${label}.jsonl`);
  const history = await HistoryWriter.open(file);
  // Count flushes (one write each, synchronous): the only instrumentation, negligible cost.
  let writes = 0;
  const flush = history.flush.bind(history);
  history.flush = () => {
    writes += 1;
    return flush();
  };
  const progress = { sent: 0, acked: 0, failed: 0, unknown: 0 };
  const t0 = Date.now();
  const start = performance.now();
  const options = (producerId, n) => ({
    ...(client ? { client, brokers: args.bootstrap.split(",").map((b) => b.trim()) } : {}),
    kafka,
    runId: RUN_ID,
    topic,
    producerId,
    messages: n,
    settings: profile.producer,
    workload: profile.workload,
    history,
    clock: () => Date.now() - t0,
    progress,
    signal: stop.signal,
  });
  try {
    if (threads > 0) {
      // As a run with workload.producers = threads and producerThreads: true.
      const share = Math.ceil(messages / threads);
      const all = Array.from({ length: threads }, (_, id) =>
        options(id, Math.max(0, Math.min(share, messages - share * id))),
      );
      await runProducerThreads(all, clientOptions(proxies, profile, `${BENCH_ID}-threads`));
    } else {
      await runProducer(options(0, messages));
    }
  } finally {
    await history.close();
  }
  const seconds = (performance.now() - start) / 1000;
  const bytes = fs.statSync(file).size;
  fs.rmSync(file, { force: true });
  const batches = Math.ceil(messages / profile.producer.batchSize);
  return { seconds, acked: progress.acked, progress, bytes, writes, batches };
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmt = (n) => Math.round(n).toLocaleString("en");

async function main() {
  const profile = await loadProfile("at-least-once");
  profile.workload = { ...profile.workload, rate: 0, messages: MESSAGES };
  const brokers = args.bootstrap.split(",").map((b) => b.trim());
  const direct = kafkaClient({
    clientId: `${BENCH_ID}-admin`,
    brokers,
    retries: 2,
    connectionTimeoutMs: 2000,
  });
  const cluster = await Cluster.connect(direct, args.bootstrap);
  const topics = [];
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-bench-"));
  let proxies;
  let failed = false;
  try {
    proxies = await ProxySet.create({
      toxiproxyUrl: args.toxiproxy,
      name: `${BENCH_ID}-producer`,
      brokers: cluster.brokers,
    });
    const freshTopic = async (label) => {
      const topic = `${BENCH_ID}-${label}`;
      topics.push(topic);
      await cluster.createTopic(
        topic,
        profile.workload.partitions,
        profile.workload.replicationFactor,
      );
      return topic;
    };
    const { producer: p, workload: w } = profile;
    console.log(
      `producer bench  ${fmt(MESSAGES)} msgs × ${ROUNDS} rounds each, ${w.messageSize} B, ` +
        `batch ${p.batchSize}, acks=${p.acks === -1 ? "all" : p.acks}, ${w.partitions} partitions, ` +
        `${w.keys} keys, via Toxiproxy ${proxies.names().join(",")}`,
    );

    // The ceiling needs java and kafka-tools (fetched with mvn once); without them it is skipped.
    let classpath;
    let noCeiling = args["no-ceiling"] ? "--no-ceiling" : undefined;
    if (!noCeiling) {
      try {
        classpath = await ceilingClasspath();
      } catch (err) {
        noCeiling = err?.message ?? String(err);
      }
    }
    const ceiling = async (label, messages) =>
      runCeiling({
        classpath,
        bootstrap: args.bootstrap,
        topic: await freshTopic(label),
        messages,
        recordSize: w.messageSize,
        signal: stop.signal,
      });

    if (WARMUP > 0) {
      const n = Math.min(WARMUP, MESSAGES);
      if (classpath) await ceiling("warm-c", Math.min(WARMUP * 5, CEILING_MESSAGES));
      await baseline({ proxies, profile, topic: await freshTopic("warm-a"), messages: n });
      await tool({
        proxies,
        profile,
        topic: await freshTopic("warm-b"),
        messages: n,
        tmpDir,
        label: "warm-b",
      });
      console.log(`warm-up         ${fmt(n)} msgs each (not counted)`);
    }

    const rates = { a: [], b: [], c: [], d: [], e: [], f: [], g: [] };
    const full = { ...profile, producer: { ...profile.producer, batchSize: FULL_BATCH } };
    const rdFull = { ...profile, producer: { ...profile.producer, batchSize: RD_BATCH } };
    let last;
    for (let round = 1; round <= ROUNDS && !stop.signal.aborted; round += 1) {
      if (classpath) {
        const c = await ceiling(`c${round}`, CEILING_MESSAGES);
        if (stop.signal.aborted) break;
        if (c.records !== CEILING_MESSAGES) {
          throw new Error(`ProducerPerformance sent ${c.records} of ${CEILING_MESSAGES}`);
        }
        rates.c.push(c.perSecond);
        console.log(
          `round ${round} (c) Java ceiling   ${fmt(c.perSecond).padStart(9)} msgs/s  (${fmt(CEILING_MESSAGES)} records, direct, avg latency ${c.avgLatencyMs} ms)`,
        );
      }
      const a = await baseline({
        proxies,
        profile,
        topic: await freshTopic(`a${round}`),
        messages: MESSAGES,
      });
      if (stop.signal.aborted) break;
      if (a.acked !== MESSAGES) throw new Error(`baseline acked ${a.acked} of ${MESSAGES}`);
      rates.a.push(MESSAGES / a.seconds);
      console.log(
        `round ${round} (a) bare kafkajs   ${fmt(MESSAGES / a.seconds).padStart(9)} msgs/s  (${a.seconds.toFixed(2)} s)`,
      );

      const b = await tool({
        proxies,
        profile,
        topic: await freshTopic(`b${round}`),
        messages: MESSAGES,
        tmpDir,
        label: `b${round}`,
      });
      if (stop.signal.aborted) break;
      if (b.acked !== MESSAGES) {
        throw new Error(`tool acked ${b.acked} of ${MESSAGES} (${JSON.stringify(b.progress)})`);
      }
      rates.b.push(MESSAGES / b.seconds);
      last = b;
      console.log(
        `round ${round} (b) kafka-chaos    ${fmt(MESSAGES / b.seconds).padStart(9)} msgs/s  (${b.seconds.toFixed(2)} s)`,
      );

      const d = await tool({
        proxies,
        profile: full,
        topic: await freshTopic(`d${round}`),
        messages: MESSAGES,
        tmpDir,
        label: `d${round}`,
      });
      if (stop.signal.aborted) break;
      if (d.acked !== MESSAGES) {
        throw new Error(
          `full speed acked ${d.acked} of ${MESSAGES} (${JSON.stringify(d.progress)})`,
        );
      }
      rates.d.push(MESSAGES / d.seconds);
      console.log(
        `round ${round} (d) full speed     ${fmt(MESSAGES / d.seconds).padStart(9)} msgs/s  (${d.seconds.toFixed(2)} s, batches of ${fmt(FULL_BATCH)})`,
      );

      const e = await tool({
        proxies,
        profile: full,
        topic: await freshTopic(`e${round}`),
        messages: MESSAGES,
        tmpDir,
        label: `e${round}`,
        threads: THREADS,
      });
      if (stop.signal.aborted) break;
      if (e.acked !== MESSAGES) {
        throw new Error(`threads acked ${e.acked} of ${MESSAGES} (${JSON.stringify(e.progress)})`);
      }
      rates.e.push(MESSAGES / e.seconds);
      console.log(
        `round ${round} (e) full, threads  ${fmt(MESSAGES / e.seconds).padStart(9)} msgs/s  (${e.seconds.toFixed(2)} s, ${THREADS} producer threads)`,
      );

      const f = await tool({
        proxies,
        profile: rdFull,
        topic: await freshTopic(`f${round}`),
        messages: RD_MESSAGES,
        tmpDir,
        label: `f${round}`,
        client: "librdkafka",
      });
      if (stop.signal.aborted) break;
      if (f.acked !== RD_MESSAGES) {
        throw new Error(
          `librdkafka acked ${f.acked} of ${RD_MESSAGES} (${JSON.stringify(f.progress)})`,
        );
      }
      rates.f.push(RD_MESSAGES / f.seconds);
      console.log(
        `round ${round} (f) librdkafka     ${fmt(RD_MESSAGES / f.seconds).padStart(9)} msgs/s  (${f.seconds.toFixed(2)} s, batches of ${fmt(RD_BATCH)}, direct)`,
      );

      const g = await tool({
        proxies,
        profile: rdFull,
        topic: await freshTopic(`g${round}`),
        messages: RD_MESSAGES,
        tmpDir,
        label: `g${round}`,
        client: "librdkafka",
        threads: THREADS,
      });
      if (stop.signal.aborted) break;
      if (g.acked !== RD_MESSAGES) {
        throw new Error(
          `librdkafka processes acked ${g.acked} of ${RD_MESSAGES} (${JSON.stringify(g.progress)})`,
        );
      }
      rates.g.push(RD_MESSAGES / g.seconds);
      console.log(
        `round ${round} (g) librdkafka ×${THREADS}  ${fmt(RD_MESSAGES / g.seconds).padStart(9)} msgs/s  (${g.seconds.toFixed(2)} s, ${THREADS} producer processes, direct)`,
      );
    }
    if (stop.signal.aborted) throw new Error("interrupted");

    const a = median(rates.a);
    const b = median(rates.b);
    const c = rates.c.length > 0 ? median(rates.c) : undefined;
    const d = median(rates.d);
    const e = median(rates.e);
    const f = median(rates.f);
    const g = median(rates.g);
    const ratio = b / a;
    const spread = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
    const paired = rates.b.map((x, i) => (x / rates.a[i]).toFixed(3));
    const ofCeiling = (x) => (c ? `, ${(x / c).toFixed(3)} of the ceiling` : "");
    if (c) {
      console.log(
        `median (c)      ${fmt(c)} msgs/s  Java ProducerPerformance, direct (range ${spread(rates.c)})`,
      );
    } else {
      console.log(`kafka ceiling   skipped (${noCeiling})`);
    }
    console.log(
      `median (a)      ${fmt(a)} msgs/s  bare kafkajs through the proxy (range ${spread(rates.a)}${ofCeiling(a)})`,
    );
    console.log(
      `median (b)      ${fmt(b)} msgs/s  kafka-chaos runProducer + HistoryWriter (range ${spread(rates.b)}${ofCeiling(b)})`,
    );
    console.log(
      `median (d)      ${fmt(d)} msgs/s  kafka-chaos at full speed, batches of ${fmt(FULL_BATCH)} (range ${spread(rates.d)}${ofCeiling(d)})`,
    );
    console.log(
      `median (e)      ${fmt(e)} msgs/s  kafka-chaos at full speed, ${THREADS} producer threads (range ${spread(rates.e)}${ofCeiling(e)})`,
    );
    console.log(
      `median (f)      ${fmt(f)} msgs/s  kafka-chaos on librdkafka, batches of ${fmt(RD_BATCH)}, direct (range ${spread(rates.f)}${ofCeiling(f)})`,
    );
    console.log(
      `median (g)      ${fmt(g)} msgs/s  kafka-chaos on librdkafka, ${THREADS} producer processes, direct (range ${spread(rates.g)}${ofCeiling(g)})`,
    );
    console.log(
      `ratio b/a       ${ratio.toFixed(3)} (target ≥ ${TARGET_RATIO.toFixed(2)}; per round ${paired.join(", ")})`,
    );
    if (c) {
      const perRound = (xs) => xs.map((x, i) => (x / rates.c[i]).toFixed(3)).join(", ");
      console.log(`ratio a/c       ${(a / c).toFixed(3)} (per round ${perRound(rates.a)})`);
      console.log(`ratio b/c       ${(b / c).toFixed(3)} (per round ${perRound(rates.b)})`);
      console.log(`ratio d/c       ${(d / c).toFixed(3)} (per round ${perRound(rates.d)})`);
      console.log(
        `ratio e/c       ${(e / c).toFixed(3)} (kafkajs engine, most it puts on; per round ${perRound(rates.e)})`,
      );
      console.log(
        `ratio f/c       ${(f / c).toFixed(3)} (librdkafka engine, one producer; per round ${perRound(rates.f)})`,
      );
      console.log(
        `ratio g/c       ${(g / c).toFixed(3)} (librdkafka engine, most it puts on, target ≥ 0.70; per round ${perRound(rates.g)})`,
      );
    }
    console.log(
      `history         ${(last.bytes / MESSAGES).toFixed(2)} bytes/message, ` +
        `${(last.writes / last.batches).toFixed(2)} writes/batch ` +
        `(${fmt(last.bytes)} B in ${fmt(last.writes)} writes for ${fmt(last.batches)} batches)`,
    );
    if (ratio < TARGET_RATIO) {
      console.error(`producer overhead above target: b/a ${ratio.toFixed(3)} < ${TARGET_RATIO}`);
      failed = args.strict;
    }
  } finally {
    await proxies?.remove().catch(() => {});
    if (topics.length > 0) {
      await cluster.deleteMatching({ test: (n) => n.startsWith("kc-bench-") }, topics, []);
    }
    await cluster.close();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`producer bench failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
});
