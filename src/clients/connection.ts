import fs from "node:fs";
import { UsageError } from "../errors.js";

export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** How clients authenticate and encrypt; PEM contents are read from files once, up front. */
export interface Connection {
  ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

/** The flags (or KAFKA_CHAOS_* env) a connection is made from; file paths, never contents. */
export interface ConnectionFlags {
  ssl?: boolean;
  sslCa?: string;
  sslCert?: string;
  sslKey?: string;
  insecure?: boolean;
  sasl?: string;
  saslUsername?: string;
}

/** The password comes only from the environment: never from a flag (visible in `ps`). */
export const PASSWORD_ENV = "KAFKA_CHAOS_SASL_PASSWORD";

export function connectionFrom(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const connection: Connection = {};
  // Booleans from the environment are read here: "0" or "false" must not switch them on.
  const insecure = flags.insecure || truthy(env.KAFKA_CHAOS_SSL_INSECURE);
  const tls =
    flags.ssl ||
    truthy(env.KAFKA_CHAOS_SSL) ||
    flags.sslCa ||
    flags.sslCert ||
    flags.sslKey ||
    insecure;
  if (tls) {
    if (Boolean(flags.sslCert) !== Boolean(flags.sslKey)) {
      throw new UsageError(
        "--ssl-cert and --ssl-key: give both (a client certificate and its key) or neither",
      );
    }
    connection.ssl = {
      ...(flags.sslCa ? { ca: readPem(flags.sslCa, "--ssl-ca") } : {}),
      ...(flags.sslCert ? { cert: readPem(flags.sslCert, "--ssl-cert") } : {}),
      ...(flags.sslKey ? { key: readPem(flags.sslKey, "--ssl-key") } : {}),
      rejectUnauthorized: !insecure,
    };
  }
  if (flags.sasl) {
    const mechanism = flags.sasl.toLowerCase() as SaslMechanism;
    if (!SASL_MECHANISMS.includes(mechanism)) {
      throw new UsageError(
        `--sasl: expected one of ${SASL_MECHANISMS.join(", ")}, got "${flags.sasl}"`,
      );
    }
    if (!flags.saslUsername) throw new UsageError("--sasl-username: required with --sasl");
    const password = env[PASSWORD_ENV];
    if (!password)
      throw new UsageError(`--sasl: set the password in the environment variable ${PASSWORD_ENV}`);
    connection.sasl = { mechanism, username: flags.saslUsername, password };
  }
  return connection;
}

/** What may be written to run.json or a worker's config file: no password, no key. */
export function describeConnection(c: Connection): Record<string, unknown> {
  return {
    ssl: c.ssl
      ? { rejectUnauthorized: c.ssl.rejectUnauthorized, clientCertificate: Boolean(c.ssl.cert) }
      : false,
    sasl: c.sasl ? { mechanism: c.sasl.mechanism, username: c.sasl.username } : false,
  };
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

function readPem(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `${flag} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

/** Workers get the connection (secrets included) through their environment, never a file. */
export const WORKER_CONNECTION_ENV = "KAFKA_CHAOS_WORKER_CONNECTION";

export function connectionEnv(c: Connection | undefined): Record<string, string> {
  return c && (c.ssl || c.sasl) ? { [WORKER_CONNECTION_ENV]: JSON.stringify(c) } : {};
}

export function connectionFromWorkerEnv(
  env: NodeJS.ProcessEnv = process.env,
): Connection | undefined {
  const raw = env[WORKER_CONNECTION_ENV];
  return raw ? (JSON.parse(raw) as Connection) : undefined;
}
