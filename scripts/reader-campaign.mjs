// The reader of record against kafkajs's consumer, repeated: an exactly-once pipeline with 3
// transactional producers over 12 partitions, transactions of several batches, lost acks, run N
// times per client library. Every run must end with a verdict (the reader of record and the
// cross-check agreeing: never exit 3), no duplicate at producer → broker, and every aborted read
// of the processor must be its own finding (broker → consumer), matching the extra copies end to
// end.   npm run build && node scripts/reader-campaign.mjs [--runs 20] [--clients kafkajs,librdkafka]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    clients: { type: "string", default: "kafkajs,librdkafka" },
    messages: { type: "string", default: "12000" },
  },
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-reader-"));
const profile = path.join(dir, "profile.yaml");
fs.writeFileSync(
  profile,
  `name: eos-many-producers
claims: exactly-once
producer: { acks: all, idempotent: true, transactional: true, maxInFlight: 1, batchSize: 100, transactionMs: 100 }
workload: { messages: ${Number(args.messages)}, rate: 4000, keys: 1000, partitions: 12, producers: 3 }
processor: { commit: transaction, workers: 2, isolation: read_committed, commitIntervalMs: 100 }
faults: [drop-acks]
`,
);

const hop = (report, name) => report.hops.find((h) => h.name === name);
const rows = [];
let bad = 0;
for (const client of args.clients.split(",")) {
  for (let i = 1; i <= Number(args.runs); i++) {
    const out = path.join(dir, `${client}-${i}`);
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, "bin/kafka-chaos.js"),
        "run",
        "--profile",
        profile,
        "--client",
        client,
        "--out",
        out,
        "--json",
        "-",
        "--quiet",
      ],
      { encoding: "utf8", maxBuffer: 64 << 20, timeout: 300_000 },
    );
    if (r.status !== 0 && r.status !== 1) {
      bad++;
      rows.push({ client, run: i, exit: r.status, note: r.stderr.trim().split("\n").at(-1) });
      continue;
    }
    const report = JSON.parse(r.stdout);
    const consumed = hop(report, "broker-consumer");
    const row = {
      client,
      run: i,
      exit: r.status,
      producerDuplicated: hop(report, "producer-broker").duplicated,
      abortedReads: consumed.abortedReads,
      consumerDuplicated: consumed.duplicated,
      endToEndDuplicated: hop(report, "end-to-end").duplicated,
      endToEndLost: hop(report, "end-to-end").lost,
    };
    const consistent =
      row.producerDuplicated === 0 &&
      row.consumerDuplicated === 0 &&
      row.endToEndLost === 0 &&
      row.endToEndDuplicated === row.abortedReads &&
      row.exit === (row.abortedReads > 0 ? 1 : 0);
    if (!consistent) bad++;
    rows.push({ ...row, note: consistent ? "" : "INCONSISTENT" });
    console.log(JSON.stringify(rows.at(-1)));
  }
}
console.log(
  "\nclient      runs  exit 3  with aborted reads  aborted reads (min–max)  inconsistent",
);
for (const client of args.clients.split(",")) {
  const mine = rows.filter((r) => r.client === client);
  const judged = mine.filter((r) => r.abortedReads !== undefined);
  const reads = judged.map((r) => r.abortedReads);
  console.log(
    `${client.padEnd(11)} ${String(mine.length).padStart(4)}  ${String(mine.length - judged.length).padStart(6)}  ${String(judged.filter((r) => r.abortedReads > 0).length).padStart(18)}  ${(reads.length ? `${Math.min(...reads)}–${Math.max(...reads)}` : "-").padStart(23)}  ${String(mine.filter((r) => r.note).length).padStart(12)}`,
  );
}
fs.rmSync(dir, { recursive: true, force: true });
process.exitCode = bad > 0 ? 1 : 0;
