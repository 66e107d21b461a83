import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../history/events.js";
import { reconcile } from "../reconcile/reconcile.js";
import { judge } from "../reconcile/verdict.js";
import type { RunFacts } from "./report.js";
import { buildReport, REPORT_SCHEMA_VERSION } from "./report.js";
// @ts-expect-error: a plain script of the package, without type declarations
import { reportSchema } from "../../scripts/report-schema-lib.mjs";

const FILE = fileURLToPath(new URL("../../schema/report.schema.json", import.meta.url));
const shipped = JSON.parse(fs.readFileSync(FILE, "utf8")) as Record<string, unknown>;

const facts: RunFacts = {
  runId: "r1",
  profile: { name: "at-least-once", claims: "at-least-once" },
  seed: 7,
  startedAt: "2026-01-01T00:00:00.000Z",
  clients: { producer: "kafkajs 2.2.4", reader: "librdkafka 2.15.1" },
};

function history(): HistoryEvent[] {
  return [
    {
      type: "run",
      runId: "r1",
      profile: "at-least-once",
      seed: 7,
      startedAt: facts.startedAt,
      topics: { input: "in", output: "out" },
      acks: -1,
    },
    { type: "invoke", producer: 0, from: 0, to: 1, time: 0 },
    { type: "ok", producer: 0, from: 0, to: 1, time: 10 },
    { type: "worker", phase: "start", worker: "0.0", time: 1 },
    {
      type: "processed",
      worker: "0.0",
      partition: 0,
      fromOffset: 0,
      toOffset: 1,
      items: [
        [0, 0],
        [0, 1],
      ],
      outcome: "ok",
      output: { "0": [0, 2] },
      time: 20,
    },
    {
      type: "worker",
      phase: "crash",
      worker: "0.0",
      point: "after-process-before-commit",
      time: 30,
    },
  ] as HistoryEvent[];
}

const input = [
  { partition: 0, offset: 0, producer: 0, seq: 0 },
  { partition: 0, offset: 1, producer: 0, seq: 1 },
];

describe("report.json's JSON Schema", () => {
  it("is the Report type's: schema/report.schema.json is regenerated with npm run schema", () => {
    expect(shipped).toEqual(reportSchema());
  }, 30_000);

  it("accepts a report the tool builds, and refuses one without its schemaVersion", () => {
    const validate = new Ajv({ strict: false }).compile(shipped);
    const rec = reconcile(history(), input, { committed: input });
    const report = buildReport(facts, rec, judge(rec, {}, { claims: "at-least-once" }));
    expect(report.hops.length).toBeGreaterThan(2);
    // Producing ended with the last outcome (10 ms); the processor's catch-up took the rest.
    expect(report.timings).toEqual({ producingMs: 10, catchUpMs: 20, totalMs: 30 });
    expect(report.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    const json = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    delete json.schemaVersion;
    expect(validate(json)).toBe(false);
    expect(validate({ ...json, schemaVersion: 2 })).toBe(false);
  });
});
