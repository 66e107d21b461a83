import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../history/events.js";
import { reconcile } from "../reconcile/reconcile.js";
import { judge } from "../reconcile/verdict.js";
import type { RunInfo } from "../run/run-dir.js";
import { githubAnnotations, githubSummary, publishToGithub } from "./github.js";
import { renderJunit } from "./junit.js";
import { buildReport, type Report } from "./report.js";

/** 4 messages sent and acked; message 0:1 lost, 0:2 stored twice: a known answer. */
function report(name: string, expect: Record<string, string[]>): Report {
  const info = {
    runId: "r<1>",
    profile: { name, claims: "at-least-once", expect },
    seed: 7,
    startedAt: "2026-01-01T00:00:00.000Z",
  } as unknown as RunInfo;
  const history: HistoryEvent[] = [
    {
      type: "run",
      runId: "r",
      profile: name,
      seed: 7,
      startedAt: info.startedAt,
      topics: { input: "in" },
      acks: -1,
    },
    { type: "invoke", producer: 0, from: 0, to: 3, time: 0 },
    { type: "ok", producer: 0, from: 0, to: 3, time: 5 },
    { type: "end", time: 1500, reason: "completed" },
  ];
  const records = [0, 2, 2, 3].map((seq, offset) => ({ partition: 0, offset, producer: 0, seq }));
  const rec = reconcile(history, records);
  return buildReport(info, rec, judge(rec, expect));
}

describe("JUnit XML", () => {
  it("is valid XML with one test case per hop and the violations as failures", () => {
    const r = report('dup "&" <loss>', { "producer-broker": ["duplicated"] });
    const xml = renderJunit([r]);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(doc.testsuites.tests).toBe("2");
    // producer-broker fails (lostAcked is always checked there); end to end lists nothing
    expect(doc.testsuites.failures).toBe("1");
    expect(suite.name).toBe('dup "&" <loss>');
    const cases = suite.testcase as {
      name: string;
      failure?: { message: string; "#text": string };
    }[];
    expect(cases.map((c) => c.name)).toEqual([
      'dup "&" <loss>: producer-broker',
      'dup "&" <loss>: end-to-end',
    ]);
    expect(cases[0]?.failure?.message).toBe("lostAcked = 1, must be 0; duplicated = 1, must be 0");
    expect(cases[0]?.failure?.["#text"]).toContain("0:1");
    expect(cases[0]?.failure?.["#text"]).toContain("0:2");
  });
});

describe("GitHub Actions", () => {
  it("summarises the hops in Markdown and annotates each violation", () => {
    const r = report("p", { "producer-broker": ["duplicated"] });
    const md = githubSummary(r);
    expect(md).toContain("### kafka-chaos: p — ❌ violation");
    expect(md).toContain("| producer-broker | 4 | 3 | 1 | 1 | 1 | 0 | 0 | ❌ |");
    expect(githubAnnotations(r)).toEqual([
      "::error title=kafka-chaos p::producer-broker: lostAcked = 1, must be 0 (e.g. 0:1)",
      "::error title=kafka-chaos p::producer-broker: duplicated = 1, must be 0 (e.g. 0:2)",
    ]);
  });

  it("appends the summary to GITHUB_STEP_SUMMARY only when it is set", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-gh-")), "summary.md");
    publishToGithub(report("p", {}), { GITHUB_STEP_SUMMARY: file });
    publishToGithub(report("q", {}), { GITHUB_STEP_SUMMARY: file });
    const text = fs.readFileSync(file, "utf8");
    expect(text).toContain("kafka-chaos: p");
    expect(text).toContain("kafka-chaos: q");
    expect(() => publishToGithub(report("p", {}), {})).not.toThrow();
  });
});

describe("a relaxed claim", () => {
  /** 0:2 stored twice, an exactly-once claim whose end-to-end duplicates are relaxed. */
  function relaxedReport(): Report {
    const relax = [{ hop: "end-to-end" as const, count: "duplicated" as const, reason: "dedup" }];
    const info = {
      runId: "r",
      profile: { name: "eo", claims: "exactly-once", expect: {}, relax },
      seed: 1,
      startedAt: "2026-01-01T00:00:00.000Z",
    } as unknown as RunInfo;
    const history: HistoryEvent[] = [
      {
        type: "run",
        runId: "r",
        profile: "eo",
        seed: 1,
        startedAt: info.startedAt,
        topics: { input: "in" },
        acks: -1,
      },
      { type: "invoke", producer: 0, from: 0, to: 3, time: 0 },
      { type: "ok", producer: 0, from: 0, to: 3, time: 5 },
      { type: "invoke", producer: 0, from: 4, to: 5, time: 6 },
      { type: "fail", producer: 0, from: 4, to: 5, time: 7, error: "E: too large" },
      { type: "end", time: 10, reason: "completed" },
    ];
    const records = [0, 1, 2, 2, 3].map((seq, offset) => ({
      partition: 0,
      offset,
      producer: 0,
      seq,
    }));
    const rec = reconcile(history, records);
    const judgement = judge(rec, {}, { claims: "exactly-once", relax });
    return buildReport(info, rec, judgement);
  }

  it("is never a plain pass: JSON, JUnit property, step summary and warnings say so", () => {
    const r = relaxedReport();
    // Messages 4 and 5 were refused: lost unacked end to end, which exactly-once forbids.
    expect(r.verdict).toBe("violation");
    expect(r.relaxed).toEqual([{ hop: "end-to-end", count: "duplicated", reason: "dedup" }]);
    expect(r.warnings[0]).toBe("claim relaxed: duplicated at end-to-end is not checked (dedup)");
    expect(r.errors).toEqual([
      {
        outcome: "fail",
        cause: "E: too large",
        error: "E: too large",
        addresses: [],
        sends: 1,
        messages: 2,
      },
    ]);
    const xml = renderJunit([r]);
    expect(xml).toContain('<property name="relaxed" value="duplicated at end-to-end: dedup"/>');
    const summary = githubSummary(r);
    expect(summary).toContain("claim relaxed: duplicated at end-to-end");
    expect(summary).toContain("| fail | E: too large | 1 | 2 |");
  });

  it("shows a pass with relaxations as such in the step summary", () => {
    const r = { ...relaxedReport(), verdict: "pass" as const, violations: [] };
    expect(githubSummary(r)).toContain("⚠️ pass with relaxed claim");
  });
});
