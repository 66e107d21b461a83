import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileError, UsageError } from "../errors.js";
import { FaultSpecError, formatFault, parseFault } from "../faults/spec.js";
import {
  applyOverrides,
  formatFieldPath,
  listProfiles,
  loadProfile,
  PACKAGE_ROOT,
  profileToYaml,
} from "./load.js";

const BUILT_INS = [
  "at-least-once",
  "at-least-once-idempotent-sink",
  "at-most-once",
  "exactly-once",
  "exactly-once-db",
  "idempotent-producer",
];

/** Built-ins for a cluster of 3 brokers (the broker-storage hop). */
const REPLICATED = {
  "acks1-leader-failover": ["slow-replication:at=2s,for=20s,latency=1s", "kill-broker:at=6s"],
  "replicated-at-least-once": ["kill-broker"],
};

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "kafka-chaos-profiles-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

/** Loads YAML text from a temp file; returns the ProfileError it fails with. */
async function profileError(text: string, name = "p.yaml"): Promise<ProfileError> {
  const file = await write(name, text);
  const error: unknown = await loadProfile(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProfileError);
  return error as ProfileError;
}

describe("built-in profiles", () => {
  it.each(BUILT_INS)("%s loads by name, with its name", async (name) => {
    const profile = await loadProfile(name);
    expect(profile.name).toBe(name);
    expect(profile.description).not.toBe("");
    expect(profile.workload).toMatchObject({
      messages: 20_000,
      partitions: 3,
      keys: 16,
      messageSize: 100,
    });
  });

  it("say what each one claims and expects", async () => {
    const [atMost, atLeast, idempotent, exactly] = await Promise.all(
      ["at-most-once", "at-least-once", "idempotent-producer", "exactly-once"].map(loadProfile),
    );
    expect(atMost?.producer).toMatchObject({ acks: 0, retries: 0 });
    expect(atMost?.processor).toMatchObject({ enabled: true, commit: "before" });
    expect(atMost?.expect).toEqual({
      "producer-broker": ["duplicated"],
      "broker-consumer": ["duplicated"],
      "processor-output": ["duplicated"],
    });
    expect(atLeast?.producer).toMatchObject({ acks: -1, retries: 10, idempotent: false });
    expect(atLeast?.processor).toMatchObject({ enabled: true, commit: "after" });
    expect(atLeast?.expect).toEqual({});
    expect(idempotent?.producer).toMatchObject({ acks: -1, idempotent: true, maxInFlight: 1 });
    expect(idempotent?.processor).toMatchObject({ enabled: true, commit: "after" });
    expect(idempotent?.claims).toBe("at-least-once");
    expect(idempotent?.expect).toEqual({ "producer-broker": ["duplicated"] });
    expect(exactly?.producer).toMatchObject({ transactional: true, idempotent: true });
    expect(exactly?.processor).toMatchObject({
      enabled: true,
      commit: "transaction",
      isolation: "read_committed",
      abortRate: 0,
    });
    expect(exactly?.claims).toBe("exactly-once");
    expect(exactly?.expect).toEqual({
      "producer-broker": ["duplicated"],
      "broker-consumer": ["duplicated"],
      "processor-output": ["duplicated"],
    });
  });

  it("keep their default faults", async () => {
    const faults = await Promise.all(
      BUILT_INS.map(async (name) => (await loadProfile(name)).faults.map(formatFault)),
    );
    expect(faults).toEqual([
      ["drop-acks"],
      ["crash-consumer:point=after-sink-write-before-commit"],
      ["cut-connection:for=1s"],
      ["drop-acks"],
      ["crash-consumer:point=mid-db-transaction"],
      ["drop-acks"],
    ]);
  });

  it("the replicated ones keep their broker faults and RF 3", async () => {
    for (const [name, faults] of Object.entries(REPLICATED)) {
      const profile = await loadProfile(name);
      expect(profile.faults.map(formatFault)).toEqual(faults);
      expect(profile.workload.replicationFactor).toBe(3);
    }
  });

  it("are listed with name, description and claim", async () => {
    const list = await listProfiles();
    expect(list.map((entry) => entry.name)).toEqual(
      [...BUILT_INS, ...Object.keys(REPLICATED)].sort(),
    );
    expect(list.find((entry) => entry.name === "at-most-once")?.claims).toBe("at-most-once");
  });

  it("an unknown name lists the built-ins", async () => {
    await expect(loadProfile("at-least-twice")).rejects.toThrow(
      /^at-least-twice: no built-in profile of that name \(built-ins: acks1-leader-failover, at-least-once, at-least-once-idempotent-sink, at-most-once/,
    );
  });

  it.each(BUILT_INS)("%s survives profileToYaml", async (name) => {
    const profile = await loadProfile(name);
    const file = await write(`${name}-copy.yaml`, profileToYaml(profile));
    expect(await loadProfile(file)).toEqual(profile);
  });

  it.each([
    "examples/kafka-streams/streams-exactly-once.yaml",
    "examples/python-postgres/python-on-conflict.yaml",
  ])(
    "%s (an app, listeners) survives profileToYaml, with a seed and broker commands",
    async (example) => {
      const loaded = await loadProfile(path.join(PACKAGE_ROOT, example));
      const profile = {
        ...loaded,
        seed: 77,
        brokers: { commands: { kill: "ssh {host} pkill -9 java" }, timeout: 30_000 },
      };
      const file = await write("app-copy.yaml", profileToYaml(profile));
      expect(await loadProfile(file)).toEqual(profile);
    },
  );
});

describe("loading files", () => {
  it("fills defaults around the name", async () => {
    const profile = await loadProfile(await write("min.yaml", "name: mine\n"));
    expect(profile).toEqual({
      name: "mine",
      description: "",
      claims: "at-least-once",
      client: "kafkajs",
      producer: {
        acks: -1,
        retries: 10,
        idempotent: false,
        transactional: false,
        maxInFlight: 5,
        requestTimeoutMs: 2000,
        retryBackoffMs: 100,
        batchSize: 100,
        batchBytes: 1_048_576,
        compression: "none",
        transactionMs: 100,
      },
      workload: {
        messages: 20_000,
        rate: 0,
        messageSize: 100,
        keys: 16,
        partitions: 3,
        replicationFactor: 1,
        producers: 1,
        producerThreads: false,
      },
      processor: {
        enabled: true,
        commit: "after",
        autoCommitIntervalMs: 500,
        workers: 1,
        batchSize: 100,
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 1000,
        isolation: "read_committed",
        commitIntervalMs: 100,
        abortRate: 0,
        restartDelayMs: 1000,
      },
      sink: { type: "none", mode: "plain" },
      faults: [],
      expect: {},
      relax: [],
    });
  });

  it("reads durations, faults in both forms, and deduplicates counts", async () => {
    const text = [
      "name: mine",
      "workload: { duration: 30s }",
      "faults:",
      "  - drop-acks:at=2s",
      "  - { type: latency, at: 5000msg, for: 2s, latency: 200ms }",
      "expect:",
      "  end-to-end: [lost, lost, duplicated]",
    ].join("\n");
    const profile = await loadProfile(await write("full.yaml", text));
    expect(profile.workload.duration).toBe(30_000);
    expect(profile.faults).toEqual([
      parseFault("drop-acks:at=2s"),
      parseFault("latency:at=5000msg,for=2s,latency=200ms"),
    ]);
    expect(profile.expect).toEqual({ "end-to-end": ["lost", "duplicated"] });
  });

  it("reads JSON", async () => {
    const json = JSON.stringify({ name: "j", producer: { acks: 1 }, faults: ["bandwidth:rate=8"] });
    const profile = await loadProfile(await write("p.json", json));
    expect(profile.producer.acks).toBe(1);
    expect(profile.faults[0]?.params).toEqual({ rate: 8 });
  });

  it("missing file", async () => {
    const missing = path.join(dir, "nope.yaml");
    await expect(loadProfile(missing)).rejects.toThrow(`${missing}: file not found`);
    await expect(loadProfile(missing)).rejects.toMatchObject({ exitCode: 2, path: "" });
  });

  it("a file of another kind", async () => {
    await expect(loadProfile("notes.txt")).rejects.toThrow(
      "notes.txt: expected a .yaml, .yml or .json file",
    );
  });

  it("YAML syntax error gives the line", async () => {
    const error = await profileError("name: x\nproducer:\n  acks: [all\n  retries: 3\n");
    expect(error.path).toMatch(/^line \d+, column \d+$/);
    expect(error.message).toMatch(/p\.yaml: line \d+, column \d+: .+/);
    expect(error.message).not.toContain("\n");
  });

  it("YAML duplicate key gives its line", async () => {
    const error = await profileError("name: x\nname: y\n");
    expect(error.path).toBe("line 2, column 1");
  });

  it("JSON syntax error gives the line", async () => {
    const error = await profileError('{\n  "name": "x",\n  oops\n}', "bad.json");
    expect(error.path).toBe("line 3");
    expect(error.problem).toMatch(/^invalid JSON: /);
  });
});

describe("schema errors name the field", () => {
  const cases: [string, string, string, string | RegExp][] = [
    [
      "unknown field",
      "name: x\nproducer:\n  ack: all\n",
      "producer.ack",
      /^unknown field; allowed: acks, retries/,
    ],
    ["unknown top-level field", "name: x\nconsumer: {}\n", "consumer", "unknown field"],
    [
      "wrong type",
      "name: x\nproducer:\n  retries: many\n",
      "producer.retries",
      "expected number, received string",
    ],
    [
      "not an int",
      "name: x\nworkload:\n  partitions: 1.5\n",
      "workload.partitions",
      "expected int",
    ],
    ["too small", "name: x\nworkload:\n  messages: 0\n", "workload.messages", ">=1"],
    [
      "bad acks",
      "name: x\nproducer:\n  acks: 2\n",
      "producer.acks",
      'expected one of "all"|-1|1|0',
    ],
    ["missing name", "claims: at-least-once\n", "name", "missing (expected string"],
    ["bad claim", "name: x\nclaims: twice\n", "claims", "at-most-once"],
    ["bad duration", "name: x\nworkload:\n  duration: soon\n", "workload.duration", 'got "soon"'],
    [
      "acks=0 + idempotent",
      "name: x\nproducer: { acks: 0, idempotent: true }\n",
      "producer.acks",
      "must be all (-1) when idempotent, got 0",
    ],
    [
      "idempotent without retries",
      "name: x\nproducer: { idempotent: true, retries: 0 }\n",
      "producer.retries",
      "must be > 0",
    ],
    [
      "idempotent in-flight",
      "name: x\nproducer: { idempotent: true, maxInFlight: 6 }\n",
      "producer.maxInFlight",
      "at most 5",
    ],
    [
      "transactional needs idempotent",
      "name: x\nproducer: { transactional: true }\n",
      "producer.idempotent",
      "must be true when transactional",
    ],
    [
      "unknown hop",
      "name: x\nexpect:\n  sink: [lost]\n",
      "expect.sink",
      "allowed: producer-broker, broker-consumer, processor-output, consumer-sink, end-to-end",
    ],
    [
      "unknown count",
      "name: x\nexpect:\n  end-to-end: [lost, gone]\n",
      "expect.end-to-end[1]",
      "lostAcked",
    ],
    [
      "fault string",
      "name: x\nfaults:\n  - drop-acks\n  - drop-acks:for=soon\n",
      "faults[1].for",
      'got "soon"',
    ],
    [
      "fault object",
      "name: x\nfaults:\n  - { type: latency, speed: 3 }\n",
      "faults[0].speed",
      "unknown key for latency",
    ],
    [
      "fault type",
      "name: x\nfaults:\n  - { for: 3s }\n",
      "faults[0].type",
      "missing fault type; allowed: cut-connection",
    ],
    ["fault value", "name: x\nfaults:\n  - 3\n", "faults[0]", "expected a spec"],
    [
      "unknown processor field",
      "name: x\nprocessor:\n  commits: after\n",
      "processor.commits",
      /^unknown field; allowed: enabled, commit, autoCommitIntervalMs, workers/,
    ],
    [
      "bad commit mode",
      "name: x\nprocessor: { commit: never }\n",
      "processor.commit",
      'expected one of "before"|"after"|"auto"|"transaction"',
    ],
    ["too many workers", "name: x\nprocessor: { workers: 9 }\n", "processor.workers", "<=8"],
    ["no workers", "name: x\nprocessor: { workers: 0 }\n", "processor.workers", ">=1"],
    [
      "processor batch size",
      "name: x\nprocessor: { batchSize: 0 }\n",
      "processor.batchSize",
      ">=1",
    ],
    [
      "session timeout under the broker minimum",
      "name: x\nprocessor: { sessionTimeoutMs: 3000 }\n",
      "processor.sessionTimeoutMs",
      ">=6000",
    ],
    [
      "heartbeat not under the session timeout",
      "name: x\nprocessor: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 }\n",
      "processor.heartbeatIntervalMs",
      "must be less than sessionTimeoutMs (6000)",
    ],
    [
      "bad isolation",
      "name: x\nprocessor: { isolation: committed }\n",
      "processor.isolation",
      'expected one of "read_committed"|"read_uncommitted"',
    ],
    ["abort rate over 1", "name: x\nprocessor: { abortRate: 1.5 }\n", "processor.abortRate", "<=1"],
    [
      "abort rate without transactions",
      "name: x\nprocessor: { commit: after, abortRate: 0.2 }\n",
      "processor.abortRate",
      "must be 0 unless commit is transaction (commit is after)",
    ],
    [
      "negative restart delay",
      "name: x\nprocessor: { restartDelayMs: -1 }\n",
      "processor.restartDelayMs",
      ">=0",
    ],
    [
      "crash-consumer without a processor",
      "name: x\nprocessor: { enabled: false }\nfaults:\n  - crash-consumer\n",
      "faults[0].type",
      "crash-consumer: the pipeline has no processor (processor.enabled is false)",
    ],
    [
      "crash-producer without a processor",
      "name: x\nprocessor: { enabled: false }\nfaults:\n  - drop-acks\n  - crash-producer\n",
      "faults[1].type",
      "crash-producer: the pipeline has no processor",
    ],
    [
      "crash-producer without transactions",
      "name: x\nprocessor: { commit: after }\nfaults:\n  - drop-acks\n  - crash-producer\n",
      "faults[1].type",
      "crash-producer (a zombie transactional producer) needs processor.commit: transaction, got after",
    ],
    [
      "after-commit-before-process needs commit before",
      "name: x\nprocessor: { commit: after }\nfaults:\n  - crash-consumer:point=after-commit-before-process\n",
      "faults[0].point",
      "point after-commit-before-process needs processor.commit: before, got after",
    ],
    [
      "after-process-before-commit needs commit after or auto",
      "name: x\nprocessor: { commit: before }\nfaults:\n  - { type: crash-consumer, point: after-process-before-commit, after: 100 }\n",
      "faults[0].point",
      "point after-process-before-commit needs processor.commit: after or auto, got before",
    ],
    [
      "mid-transaction needs commit transaction",
      "name: x\nprocessor: { commit: auto }\nfaults:\n  - crash-consumer:point=mid-transaction\n",
      "faults[0].point",
      "point mid-transaction needs processor.commit: transaction, got auto",
    ],
    [
      "crash of a worker slot that does not exist",
      "name: x\nprocessor: { workers: 2 }\nfaults:\n  - crash-consumer:worker=2\n",
      "faults[0].worker",
      "no worker 2: processor.workers is 2 (slots 0-1)",
    ],
    [
      "processor-side network fault without a processor",
      "name: x\nprocessor: { enabled: false }\nfaults:\n  - drop-acks:role=processor\n",
      "faults[0].role",
      "role processor: the pipeline has no processor",
    ],
    [
      "coordinator target without a processor",
      "name: x\nprocessor: { enabled: false }\nfaults:\n  - { type: latency, target: coordinator }\n",
      "faults[0].target",
      "target coordinator: the pipeline has no processor",
    ],
    [
      "processor hop expected without a processor",
      "name: x\nprocessor: { enabled: false }\nexpect:\n  end-to-end: [lost]\n  processor-output: [lost]\n",
      "expect.processor-output",
      "no such hop: the pipeline has no processor (processor.enabled is false)",
    ],
    [
      "bad crash point in a fault string",
      "name: x\nfaults:\n  - crash-consumer:point=later\n",
      "faults[0].point",
      'expected one of after-commit-before-process, after-process-before-commit, mid-transaction, after-sink-write-before-commit, mid-db-transaction, random, got "later"',
    ],
    [
      "bad role in a fault object",
      "name: x\nfaults:\n  - { type: drop-acks, role: consumer }\n",
      "faults[0].role",
      "expected one of producer, processor, app, all",
    ],
    ["not an object", "- a\n- b\n", "", "expected object, received array"],
  ];

  it.each(cases)("%s", async (_, text, fieldPath, problem) => {
    const error = await profileError(text);
    expect(error.path).toBe(fieldPath);
    expect(error.problem).toMatch(problem instanceof RegExp ? problem : escape(problem));
    expect(error.message).toBe([error.file, fieldPath, error.problem].filter(Boolean).join(": "));
    expect(path.basename(error.file)).toBe("p.yaml");
    expect(error.exitCode).toBe(2);
  });

  it("adds the line of the bad value", async () => {
    const error = await profileError("name: x\nproducer:\n  retries: 3\n  acks: 2\n");
    expect(error.problem).toMatch(/\(line 4\)$/);
  });

  it("adds the line of a fault string with a bad key", async () => {
    const error = await profileError("name: x\nfaults:\n  - drop-acks\n  - drop-acks:for=x\n");
    expect(error.problem).toMatch(/\(line 4\)$/);
  });

  it("adds the line of a fault that does not fit the processor", async () => {
    const error = await profileError(
      "name: x\nprocessor:\n  commit: after\nfaults:\n  - drop-acks\n  - crash-producer\n",
    );
    expect(error.path).toBe("faults[1].type");
    expect(error.problem).toMatch(/\(line 6\)$/);
  });

  it("reports a fault's own problem before how it fits the processor", async () => {
    const error = await profileError(
      "name: x\nprocessor: { commit: after }\nfaults:\n  - crash-producer\n  - drop-acks:for=soon\n",
    );
    expect(error.path).toBe("faults[1].for");
  });

  it("an empty file", async () => {
    const error = await profileError("# nothing yet\n");
    expect(error.message).toMatch(/p\.yaml: empty file; a profile needs at least a name$/);
  });
});

describe("processor", () => {
  const load = async (text: string) => loadProfile(await write("proc.yaml", text));

  it.each([
    ["before", "after-commit-before-process"],
    ["after", "after-process-before-commit"],
    ["auto", "after-process-before-commit"],
    ["transaction", "mid-transaction"],
    ["before", "random"],
    ["after", "random"],
    ["auto", "random"],
    ["transaction", "random"],
  ])("commit %s accepts crash point %s", async (commit, point) => {
    const profile = await load(
      `name: x\nprocessor: { commit: ${commit} }\nfaults:\n  - crash-consumer:point=${point}\n`,
    );
    expect(profile.faults[0]?.params).toMatchObject({ point });
  });

  it("reads every setting", async () => {
    const profile = await load(
      [
        "name: x",
        "processor:",
        "  commit: transaction",
        "  autoCommitIntervalMs: 250",
        "  workers: 3",
        "  batchSize: 50",
        "  sessionTimeoutMs: 10000",
        "  heartbeatIntervalMs: 3000",
        "  isolation: read_uncommitted",
        "  commitIntervalMs: 1000",
        "  abortRate: 0.2",
        "  restartDelayMs: 0",
        "faults:",
        "  - crash-producer:worker=2,for=5s",
        "  - { type: crash-consumer, point: mid-transaction, after: 500msg, worker: 1 }",
        "  - drop-acks:role=processor,target=coordinator",
      ].join("\n"),
    );
    expect(profile.processor).toEqual({
      enabled: true,
      commit: "transaction",
      autoCommitIntervalMs: 250,
      workers: 3,
      batchSize: 50,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 3000,
      isolation: "read_uncommitted",
      commitIntervalMs: 1000,
      abortRate: 0.2,
      restartDelayMs: 0,
    });
    expect(profile.faults.map(formatFault)).toEqual([
      "crash-producer:for=5s,worker=2",
      "crash-consumer:point=mid-transaction,after=500,worker=1",
      "drop-acks:target=coordinator,role=processor",
    ]);
    const copy = await write("proc-copy.yaml", profileToYaml(profile));
    expect(await loadProfile(copy)).toEqual(profile);
  });

  it("a producer-only pipeline keeps producer-side faults and hops", async () => {
    const profile = await load(
      [
        "name: x",
        "processor: { enabled: false }",
        "faults: [drop-acks, cut-connection:role=all]",
        "expect: { producer-broker: [duplicated], end-to-end: [] }",
      ].join("\n"),
    );
    expect(profile.processor.enabled).toBe(false);
    expect(profile.faults.map(formatFault)).toEqual(["drop-acks", "cut-connection:role=all"]);
  });
});

describe("applyOverrides", () => {
  it("sets messages, duration and faults without touching the original", async () => {
    const profile = await loadProfile("at-least-once");
    const changed = applyOverrides(profile, {
      messages: 500,
      duration: "10s",
      faults: ["latency:for=1s", parseFault("bandwidth")],
    });
    expect(changed.workload.messages).toBe(500);
    expect(changed.workload.duration).toBe(10_000);
    expect(changed.faults.map((fault) => fault.type)).toEqual(["latency", "bandwidth"]);
    expect(profile.workload.messages).toBe(20_000);
    expect(profile.faults.map((fault) => fault.type)).toEqual(["drop-acks"]);
  });

  it("keeps the profile's faults when none are given; `none` clears them", async () => {
    const profile = await loadProfile("at-least-once");
    expect(applyOverrides(profile, { faults: [] }).faults).toEqual(profile.faults);
    expect(applyOverrides(profile, {}).faults).toEqual(profile.faults);
    expect(applyOverrides(profile, { faults: ["none"] }).faults).toEqual([]);
  });

  it("checks --fault specs against the profile's processor", async () => {
    const atLeast = await loadProfile("at-least-once");
    const exactly = await loadProfile("exactly-once");
    expect(() => applyOverrides(atLeast, { faults: ["crash-producer"] })).toThrow(
      'fault "crash-producer": type: crash-producer (a zombie transactional producer) needs processor.commit: transaction, got after (profile at-least-once)',
    );
    expect(() =>
      applyOverrides(atLeast, { faults: ["crash-consumer:point=mid-transaction,after=10"] }),
    ).toThrow(FaultSpecError);
    expect(() =>
      applyOverrides(atLeast, { faults: [parseFault("crash-consumer:worker=1")] }),
    ).toThrow('fault "crash-consumer:worker=1": worker: no worker 1');
    const ok = applyOverrides(exactly, {
      faults: ["crash-producer", "crash-consumer:point=mid-transaction,after=1500"],
    });
    expect(ok.faults.map((fault) => fault.type)).toEqual(["crash-producer", "crash-consumer"]);
    const atMost = await loadProfile("at-most-once");
    const crash = "crash-consumer:point=after-commit-before-process,after=1500";
    expect(applyOverrides(atMost, { faults: [crash] }).faults.map(formatFault)).toEqual([crash]);
  });

  it("rejects bad values with a UsageError", async () => {
    const profile = await loadProfile("at-least-once");
    expect(() => applyOverrides(profile, { messages: 0 })).toThrow(UsageError);
    expect(() => applyOverrides(profile, { messages: 1.5 })).toThrow("--messages");
    expect(() => applyOverrides(profile, { duration: "soon" })).toThrow("--duration");
    expect(() => applyOverrides(profile, { duration: 0 })).toThrow("--duration");
    expect(() => applyOverrides(profile, { faults: ["explode"] })).toThrow('fault "explode"');
  });
});

it("formatFieldPath", () => {
  expect(formatFieldPath(["faults", 1, "for"])).toBe("faults[1].for");
  expect(formatFieldPath(["producer", "acks"])).toBe("producer.acks");
  expect(formatFieldPath([])).toBe("");
});

function escape(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
}

describe("relax", () => {
  it("takes a check the claim implies, with its reason", async () => {
    const file = await write(
      "relax-ok.yaml",
      `name: r
claims: exactly-once
relax:
  - { hop: end-to-end, count: duplicated, reason: "the consumer deduplicates downstream" }
`,
    );
    const profile = await loadProfile(file);
    expect(profile.relax).toEqual([
      { hop: "end-to-end", count: "duplicated", reason: "the consumer deduplicates downstream" },
    ]);
    expect(profileToYaml(profile)).toContain("relax:");
  });

  it("refuses a relax entry the claim does not check", async () => {
    const error = await profileError(`name: r
claims: at-least-once
relax:
  - { hop: end-to-end, count: duplicated, reason: "x" }
`);
    expect(error.path).toBe("relax[0].count");
    expect(error.problem).toMatch(/not a check of the claim at-least-once/);
  });

  it("refuses a relax entry without a reason, for a missing hop, or also in expect", async () => {
    const noReason = await profileError(`name: r
claims: exactly-once
relax: [{ hop: end-to-end, count: lost, reason: " " }]
`);
    expect(noReason.problem).toMatch(/say why/);
    const noHop = await profileError(`name: r
relax: [{ hop: consumer-sink, count: lostAcked, reason: "x" }]
`);
    expect(noHop.problem).toMatch(/no hop consumer-sink/);
    const both = await profileError(`name: r
claims: exactly-once
expect: { end-to-end: [lost] }
relax: [{ hop: end-to-end, count: lost, reason: "x" }]
`);
    expect(both.problem).toMatch(/both in expect and in relax/);
  });
});
