import type { TestProject } from "vitest/node";
import {
  postgresAnswers,
  postgresBin,
  startPostgres,
  stopPostgres,
} from "../src/stack/postgres.js";
import { down, isReady, status, up, type SecureInfo } from "../src/stack/stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    bootstrap: string;
    toxiproxyUrl: string;
    /** a PostgreSQL for the sink tests (the setup fails when none can be had) */
    pgUrl: string;
    /** the stack's secure listeners (the setup restarts a stack without them) */
    secure: SecureInfo | null;
  }
}

/**
 * Integration tests run against the real local stack: reuse it if running, else start it and
 * stop it after. Every test runs: a running stack without the secure listeners the TLS/SASL
 * tests need is restarted with them, and PostgreSQL is started (or the setup fails saying how
 * to get it) instead of skipping tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let current = await status();
  if (isReady(current) && current.info && !current.info.secure) {
    console.log("the running local stack has no secure listeners: restarting it with --secure");
    await down(console.log);
    current = await status();
  }
  const reuse = isReady(current) && current.info !== undefined;
  // KAFKA_CHAOS_TEST_KAFKA: the Kafka version of a stack the setup starts (CI runs the known
  // answers once more on the newest Kafka, on a side stack).
  const kafka = process.env.KAFKA_CHAOS_TEST_KAFKA;
  const info =
    reuse && current.info
      ? current.info
      : await up({ brokers: 1, secure: true, log: console.log, ...(kafka ? { kafka } : {}) });
  if (kafka && info.kafka !== kafka) {
    throw new Error(
      `KAFKA_CHAOS_TEST_KAFKA=${kafka}, but the running stack runs Kafka ${info.kafka}`,
    );
  }
  console.log(
    `integration tests: Kafka ${info.kafka ?? "4.1.1"} at ${info.bootstrap}, Toxiproxy ${info.toxiproxy}${reuse ? " (already running)" : ""}`,
  );
  project.provide("bootstrap", info.bootstrap);
  project.provide("toxiproxyUrl", info.toxiproxy);
  project.provide("secure", info.secure ?? null);
  if (!info.secure) throw new Error("the local stack came up without its secure listeners");
  const pg = await postgres(current.postgres?.ready === true);
  console.log(`integration tests: PostgreSQL ${pg.url}`);
  project.provide("pgUrl", pg.url);
  return async () => {
    if (pg.started) await stopPostgres();
    if (!reuse) await down(console.log);
  };
}

/** $KAFKA_CHAOS_PG_URL, else the local stack's PostgreSQL, started if its binaries are here. */
async function postgres(running: boolean): Promise<{ url: string; started: boolean }> {
  const given = process.env.KAFKA_CHAOS_PG_URL;
  if (given) {
    if (await postgresAnswers(given)) return { url: given, started: false };
    throw new Error(`KAFKA_CHAOS_PG_URL=${given}: PostgreSQL does not answer there`);
  }
  if (running) return { url: await startPostgres(console.log), started: false };
  if (!postgresBin()) {
    throw new Error(
      "the sink tests need PostgreSQL: install its server (Debian: apt-get install postgresql), " +
        "or point KAFKA_CHAOS_PG_URL at one",
    );
  }
  return { url: await startPostgres(console.log), started: true };
}
