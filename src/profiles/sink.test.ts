import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileError } from "../errors.js";
import { FaultSpecError } from "../faults/spec.js";
import { applyOverrides, loadProfile } from "./load.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "kafka-chaos-sink-profiles-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(text: string) {
  const file = path.join(dir, "p.yaml");
  await writeFile(file, text);
  return loadProfile(file);
}

async function problem(text: string): Promise<[string, string]> {
  const error: unknown = await load(text).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProfileError);
  const e = error as ProfileError;
  return [e.path, e.problem];
}

describe("profile: sink block", () => {
  it("defaults to no sink", async () => {
    expect((await load("name: x\n")).sink).toEqual({ type: "none", mode: "plain" });
  });

  it.each(["plain", "idempotent", "upsert-versioned", "atomic"])(
    "accepts mode %s",
    async (mode) => {
      const profile = await load(`name: x\nsink: { type: sqlite, mode: ${mode} }\n`);
      expect(profile.sink).toEqual({ type: "sqlite", mode });
    },
  );

  it("takes a postgres URL", async () => {
    const url = "postgres://me@db.example:5432/app";
    const profile = await load(`name: x\nsink: { type: postgres, url: "${url}" }\n`);
    expect(profile.sink).toEqual({ type: "postgres", mode: "plain", url });
  });

  it.each([
    [
      "unknown key",
      "sink: { type: sqlite, table: t }",
      "sink.table",
      "unknown field; allowed: type, mode, url",
    ],
    ["bad type", "sink: { type: mysql }", "sink.type", "none"],
    ["bad mode", "sink: { type: sqlite, mode: exactly }", "sink.mode", "atomic"],
    [
      "url on sqlite",
      'sink: { type: sqlite, url: "postgres://h/d" }',
      "sink.url",
      "only for type postgres",
    ],
    [
      "not a postgres URL",
      'sink: { type: postgres, url: "mysql://h/d" }',
      "sink.url",
      "postgres://",
    ],
    [
      "sink without processor",
      "processor: { enabled: false }\nsink: { type: sqlite }",
      "sink.type",
      "needs the processor",
    ],
    [
      "sink with a Kafka transaction",
      "producer: { idempotent: true, maxInFlight: 1 }\nprocessor: { commit: transaction }\nsink: { type: sqlite }",
      "processor.commit",
      "cannot include an external sink",
    ],
    [
      "consumer-sink hop without a sink",
      "expect: { consumer-sink: [lost] }",
      "expect.consumer-sink",
      "no such hop",
    ],
    [
      "processor-output hop with a sink",
      "sink: { type: sqlite }\nexpect: { processor-output: [lost] }",
      "expect.processor-output",
      "not to a topic",
    ],
    [
      "a sink crash point without a sink",
      "faults: [crash-consumer:point=mid-db-transaction]",
      "faults[0].point",
      "needs a sink",
    ],
    [
      "after-sink-write-before-commit with commit before",
      "processor: { commit: before }\nsink: { type: sqlite }\nfaults: [crash-consumer:point=after-sink-write-before-commit]",
      "faults[0].point",
      "needs processor.commit: after or auto",
    ],
  ])("%s is refused", async (_, body, fieldPath, text) => {
    const [where, what] = await problem(`name: x\n${body}\n`);
    expect(where).toBe(fieldPath);
    expect(what).toContain(text);
  });

  it("sink crash points fit a profile with a sink, also as --fault", async () => {
    const profile = await load("name: x\nsink: { type: sqlite, mode: atomic }\n");
    for (const point of ["mid-db-transaction", "after-sink-write-before-commit"]) {
      const fault = `crash-consumer:point=${point},after=100`;
      expect(applyOverrides(profile, { faults: [fault] }).faults).toHaveLength(1);
    }
    const plain = await load("name: x\n");
    expect(() =>
      applyOverrides(plain, { faults: ["crash-consumer:point=mid-db-transaction"] }),
    ).toThrow(FaultSpecError);
  });
});
