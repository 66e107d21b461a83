import { afterAll, beforeAll, expect, it } from "vitest";
import { HEADER_PRODUCER, HEADER_RUN, HEADER_SEQ } from "../src/identity/headers.js";
import { resolveInDoubt, type InDoubt } from "../src/reader/fate.js";
import { bootstrap, directClient, uniqueName } from "./helpers.js";

const name = uniqueName("kc-resolve");
const topic = `${name}-t`;
const kafka = directClient();

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
});

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.deleteGroups([`${name}-g`]).catch(() => {});
  await admin.disconnect();
});

/** One transaction of 10 messages, committed or aborted; returns what the resolver gets. */
async function transaction(from: number, commit: boolean): Promise<InDoubt> {
  const producer = kafka.producer({
    transactionalId: `${name}-tx`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const tx = await producer.transaction();
  const messages = Array.from({ length: 10 }, (_, i) => ({
    value: "x",
    headers: { [HEADER_RUN]: name, [HEADER_PRODUCER]: "0", [HEADER_SEQ]: String(from + i) },
  }));
  const [meta] = await tx.send({ topic, messages });
  if (commit) await tx.commit();
  else await tx.abort();
  await producer.disconnect();
  return { topic, offsets: { "0": meta?.baseOffset ?? "-1" }, runId: name, producer: 0, from };
}

it("tells a committed transaction from an aborted one by reading read_committed at its base offset", async () => {
  const committed = await transaction(0, true);
  const aborted = await transaction(10, false); // nothing follows it: only aborted records and a marker
  expect(await resolveInDoubt({ kafka, bootstrap: bootstrap() }, aborted, 10_000)).toBe("aborted");
  expect(await resolveInDoubt({ kafka, bootstrap: bootstrap() }, committed, 10_000)).toBe(
    "committed",
  );
}, 60_000);
