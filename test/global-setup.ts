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
    /** a PostgreSQL for the sink tests; "" when none is available (those tests are skipped) */
    pgUrl: string;
    /** the stack's secure listeners (stack:up --secure); null when the running stack has none */
    secure: SecureInfo | null;
  }
}

/** Integration tests run against the real local stack: reuse it if running, else start it and stop it after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const current = await status();
  const reuse = isReady(current) && current.info !== undefined;
  const info =
    reuse && current.info ? current.info : await up({ brokers: 1, secure: true, log: console.log });
  console.log(
    `integration tests: Kafka ${info.bootstrap}, Toxiproxy ${info.toxiproxy}${reuse ? " (already running)" : ""}`,
  );
  project.provide("bootstrap", info.bootstrap);
  project.provide("toxiproxyUrl", info.toxiproxy);
  project.provide("secure", info.secure ?? null);
  if (!info.secure) {
    console.warn(
      "the running stack has no secure listeners (stack:up --secure): TLS/SASL tests skipped",
    );
  }
  const pg = await postgres(current.postgres?.ready === true);
  console.log(
    pg.url
      ? `integration tests: PostgreSQL ${pg.url}`
      : "no PostgreSQL: sink tests on postgres skipped",
  );
  project.provide("pgUrl", pg.url);
  return async () => {
    if (pg.started) await stopPostgres();
    if (!reuse) await down(console.log);
  };
}

/** $KAFKA_CHAOS_PG_URL, else the local stack's PostgreSQL, started if its binaries are here. */
async function postgres(running: boolean): Promise<{ url: string; started: boolean }> {
  const given = process.env.KAFKA_CHAOS_PG_URL;
  if (given) return { url: (await postgresAnswers(given)) ? given : "", started: false };
  if (running) return { url: await startPostgres(console.log), started: false };
  if (!postgresBin()) return { url: "", started: false };
  return { url: await startPostgres(console.log), started: true };
}
