import fs from "node:fs";
import path from "node:path";
import type { Connection } from "../clients/connection.js";
import { PASSWORD_ENV } from "../clients/connection.js";

/** What the tool tells the user's app, besides the profile's own app.env. */
export interface AppContract {
  runId: string;
  /** host:port,… the app bootstraps at (the run's app proxies when the brokers have them) */
  bootstrap: string;
  inputTopic: string;
  outputTopic?: string;
  groupId: string;
  /** per instance: `${transactionalId}-${instance}` */
  transactionalId: string;
  sink?: { url: string; table: string };
  connection?: Connection;
  identity: string;
}

/**
 * The environment of instance `instance`: the tool's own environment, the contract as
 * KAFKA_CHAOS_* variables, then the profile's app.env. PEM material is written to files in the
 * run directory (the key with mode 0600) and named by KAFKA_CHAOS_SSL_*_FILE.
 */
export function appEnvironment(
  contract: AppContract,
  own: Record<string, string>,
  dir: string,
): (instance: number) => NodeJS.ProcessEnv {
  const base: Record<string, string> = {
    KAFKA_CHAOS_BOOTSTRAP: contract.bootstrap,
    KAFKA_CHAOS_INPUT_TOPIC: contract.inputTopic,
    ...(contract.outputTopic ? { KAFKA_CHAOS_OUTPUT_TOPIC: contract.outputTopic } : {}),
    KAFKA_CHAOS_GROUP_ID: contract.groupId,
    KAFKA_CHAOS_RUN_ID: contract.runId,
    KAFKA_CHAOS_IDENTITY: contract.identity,
    ...(contract.sink
      ? { KAFKA_CHAOS_SINK_URL: contract.sink.url, KAFKA_CHAOS_SINK_TABLE: contract.sink.table }
      : {}),
    ...securityEnv(contract.connection, dir),
  };
  return (instance) => ({
    ...process.env,
    ...base,
    KAFKA_CHAOS_INSTANCE: String(instance),
    KAFKA_CHAOS_TRANSACTIONAL_ID: `${contract.transactionalId}-${instance}`,
    ...own,
  });
}

function securityEnv(c: Connection | undefined, dir: string): Record<string, string> {
  if (!c || (!c.ssl && !c.sasl)) return { KAFKA_CHAOS_SECURITY_PROTOCOL: "PLAINTEXT" };
  const protocol = c.sasl ? (c.ssl ? "SASL_SSL" : "SASL_PLAINTEXT") : "SSL";
  const env: Record<string, string> = { KAFKA_CHAOS_SECURITY_PROTOCOL: protocol };
  if (c.sasl) {
    env.KAFKA_CHAOS_SASL_MECHANISM = c.sasl.mechanism.toUpperCase();
    env.KAFKA_CHAOS_SASL_USERNAME = c.sasl.username;
    env[PASSWORD_ENV] = c.sasl.password;
  }
  const pem = (name: string, text: string | undefined, mode: number) => {
    if (!text) return;
    const file = path.join(dir, `app-${name}.pem`);
    fs.writeFileSync(file, text, { mode });
    env[`KAFKA_CHAOS_SSL_${name.toUpperCase()}_FILE`] = file;
  };
  pem("ca", c.ssl?.ca, 0o644);
  pem("cert", c.ssl?.cert, 0o644);
  pem("key", c.ssl?.key, 0o600);
  if (c.ssl && !c.ssl.rejectUnauthorized) env.KAFKA_CHAOS_SSL_INSECURE = "true";
  return env;
}
