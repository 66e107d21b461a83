import { describe, expect, it } from "vitest";
import type { DrainedRecord, HistoryEvent, ProcessedEvent } from "../history/events.js";
import { Reconciler, reconcile, type HopCounts, type Reconciliation } from "./reconcile.js";
import { judge } from "./verdict.js";

/** Runs whose processor writes to an external sink: producer → input → processor → sink. */

function started(): HistoryEvent {
  return {
    type: "run",
    runId: "r1",
    profile: "test",
    seed: 1,
    startedAt: "2024-01-01T00:00:00.000Z",
    topics: { input: "in" },
    acks: -1,
    sink: { type: "sqlite", mode: "plain", table: "sink" },
  };
}

function send(from: number, to: number, outcome: "ok" | "fail" | "unknown" = "ok") {
  const events: HistoryEvent[] = [{ type: "invoke", producer: 0, from, to, time: from }];
  events.push({ type: outcome, producer: 0, from, to, time: to + 1 });
  return events;
}

/** Producer 0's seqs [from, to] written to the sink, read at input offsets = seqs. */
function processed(from: number, to: number, outcome: ProcessedEvent["outcome"] = "ok") {
  const items: [number, number][] = [];
  for (let seq = from; seq <= to; seq++) items.push([0, seq]);
  return {
    type: "processed",
    worker: "0.0",
    partition: 0,
    fromOffset: from,
    toOffset: to,
    items,
    outcome,
    time: 100 + from,
  } satisfies ProcessedEvent;
}

/** Input records (partition 0, offset = seq) of seqs [from, to]. */
function stored(from: number, to: number, base = from): DrainedRecord[] {
  const out: DrainedRecord[] = [];
  for (let seq = from; seq <= to; seq++) {
    out.push({ partition: 0, offset: base + seq - from, producer: 0, seq });
  }
  return out;
}

/** Sink rows of seqs, in row id order starting at `firstId`. */
function rows(seqs: number[], firstId = 1): DrainedRecord[] {
  return seqs.map((seq, i) => ({ partition: 0, offset: firstId + i, producer: 0, seq }));
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

function counts(h: HopCounts | undefined) {
  if (!h) throw new Error("no such hop");
  return { in: h.in, out: h.out, lost: h.lost, lostAcked: h.lostAcked, duplicated: h.duplicated };
}

function hop(rec: Reconciliation, name: string): HopCounts | undefined {
  return rec.hops.find((h) => h.name === name);
}

describe("reconcile: consumer-sink hop", () => {
  it("has the hops producer-broker, broker-consumer, consumer-sink, end-to-end", () => {
    const rec = reconcile([started(), ...send(0, 9), processed(0, 9)], stored(0, 9), {
      sink: rows(range(0, 9)),
    });
    expect(rec.hops.map((h) => h.name)).toEqual([
      "producer-broker",
      "broker-consumer",
      "consumer-sink",
      "end-to-end",
    ]);
    for (const h of rec.hops) {
      expect(counts(h)).toEqual({ in: 10, out: 10, lost: 0, lostAcked: 0, duplicated: 0 });
    }
    expect(rec.processor?.processed).toBe(10);
  });

  it("plain sink, crash after the sink write before the commit: the re-processed chunk is duplicated", () => {
    // seqs 0-9 written and recorded, crash, 5-9 re-processed and written again
    const history = [started(), ...send(0, 9), processed(0, 4), processed(5, 9), processed(5, 9)];
    const sinkRows = rows([...range(0, 9), ...range(5, 9)]);
    const rec = reconcile(history, stored(0, 9), { sink: sinkRows });
    expect(counts(hop(rec, "broker-consumer"))).toEqual({
      in: 10,
      out: 10,
      lost: 0,
      lostAcked: 0,
      duplicated: 5,
    });
    expect(counts(hop(rec, "consumer-sink"))).toEqual({
      in: 10,
      out: 10,
      lost: 0,
      lostAcked: 0,
      duplicated: 5,
    });
    expect(hop(rec, "consumer-sink")?.examples.duplicated).toEqual([
      "0:5",
      "0:6",
      "0:7",
      "0:8",
      "0:9",
    ]);
    expect(counts(hop(rec, "end-to-end")).duplicated).toBe(5);
    const verdict = judge(rec, { "consumer-sink": ["duplicated"] });
    expect(verdict.verdict).toBe("violation");
    expect(verdict.violations).toEqual([
      {
        hop: "consumer-sink",
        count: "duplicated",
        value: 5,
        examples: ["0:5", "0:6", "0:7", "0:8", "0:9"],
      },
    ]);
  });

  it("idempotent sink, same crash: re-processed at broker-consumer, one row each in the sink", () => {
    const history = [started(), ...send(0, 9), processed(0, 4), processed(5, 9), processed(5, 9)];
    const rec = reconcile(history, stored(0, 9), { sink: rows(range(0, 9)) });
    expect(counts(hop(rec, "broker-consumer")).duplicated).toBe(5);
    expect(counts(hop(rec, "consumer-sink"))).toEqual({
      in: 10,
      out: 10,
      lost: 0,
      lostAcked: 0,
      duplicated: 0,
    });
    expect(judge(rec, { "consumer-sink": ["lost", "duplicated"] }).verdict).toBe("pass");
  });

  it("a producer retry stored twice explains two rows at consumer-sink, not end to end", () => {
    const input = [...stored(0, 4), { partition: 0, offset: 5, producer: 0, seq: 4 }];
    const rec = reconcile([started(), ...send(0, 4), processed(0, 4)], input, {
      sink: rows([0, 1, 2, 3, 4, 4]),
    });
    expect(counts(hop(rec, "producer-broker")).duplicated).toBe(1);
    expect(counts(hop(rec, "consumer-sink")).duplicated).toBe(0);
    expect(counts(hop(rec, "end-to-end")).duplicated).toBe(1);
  });

  it("a write the DB committed but whose row is missing is an acked loss, always a violation", () => {
    const rec = reconcile([started(), ...send(0, 9), processed(0, 9)], stored(0, 9), {
      sink: rows([0, 1, 2, 3, 4, 5, 6, 7]),
    });
    expect(counts(hop(rec, "consumer-sink"))).toEqual({
      in: 10,
      out: 8,
      lost: 2,
      lostAcked: 2,
      duplicated: 0,
    });
    expect(hop(rec, "consumer-sink")?.examples.lostAcked).toEqual(["0:8", "0:9"]);
    const verdict = judge(rec, {});
    expect(verdict.violations.map((v) => [v.hop, v.count, v.value])).toEqual([
      ["consumer-sink", "lostAcked", 2],
    ]);
  });

  it("a row whose processing was never recorded (crash before the history flush) is no loss", () => {
    const rec = reconcile([started(), ...send(0, 9), processed(0, 4)], stored(0, 9), {
      sink: rows(range(0, 9)),
    });
    expect(counts(hop(rec, "broker-consumer")).lost).toBe(0);
    expect(counts(hop(rec, "consumer-sink"))).toEqual({
      in: 10,
      out: 10,
      lost: 0,
      lostAcked: 0,
      duplicated: 0,
    });
  });

  it("rows of a never-sent message are unexpected; stored but never processed is lost at broker-consumer", () => {
    const rec = reconcile([started(), ...send(0, 9), processed(0, 7)], stored(0, 9), {
      sink: rows([...range(0, 7), 42]),
    });
    expect(hop(rec, "consumer-sink")?.unexpected).toBe(1);
    expect(hop(rec, "consumer-sink")?.examples.unexpected).toEqual(["0:42"]);
    expect(counts(hop(rec, "broker-consumer")).lost).toBe(2);
    expect(counts(hop(rec, "consumer-sink")).in).toBe(8);
    expect(counts(hop(rec, "end-to-end")).lost).toBe(2);
  });

  it("streams: the same answer whatever the order of events and rows", () => {
    const r = new Reconciler();
    for (const row of rows([...range(0, 9), ...range(5, 9)])) r.addSinkRecord(row);
    for (const e of [processed(5, 9), processed(0, 4), processed(5, 9)]) r.addEvent(e);
    for (const rec of stored(0, 9)) r.addRecord(rec);
    for (const e of [started(), ...send(0, 9)]) r.addEvent(e);
    expect(counts(hop(r.result(), "consumer-sink")).duplicated).toBe(5);
  });
});
