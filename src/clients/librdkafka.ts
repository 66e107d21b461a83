import rdkafka, {
  type KafkaConsumer,
  type LibrdKafkaError,
  type Message,
} from "@confluentinc/kafka-javascript";
import type { Connection } from "./connection.js";

export type RdConfig = Record<string, string | number | boolean>;

/** The client's name and version, as reports label what it did. */
export const LIBRDKAFKA = `librdkafka ${rdkafka.librdkafkaVersion}`;

/**
 * A consumer whose prefetch queue is full waits this long before fetching again (librdkafka's
 * default, 1 s, left a reader that keeps up idle for most of a large drain).
 */
export const FETCH_QUEUE_BACKOFF_MS = 10;

/** librdkafka settings for the bootstrap servers and the run's TLS / SASL. */
export function rdkafkaConfig(bootstrap: string, connection: Connection = {}): RdConfig {
  const { ssl, sasl } = connection;
  const config: RdConfig = {
    "bootstrap.servers": bootstrap,
    "security.protocol": sasl ? (ssl ? "sasl_ssl" : "sasl_plaintext") : ssl ? "ssl" : "plaintext",
    log_level: 3,
  };
  if (ssl?.ca) config["ssl.ca.pem"] = ssl.ca;
  if (ssl?.cert) config["ssl.certificate.pem"] = ssl.cert;
  if (ssl?.key) config["ssl.key.pem"] = ssl.key;
  if (ssl && !ssl.rejectUnauthorized) {
    config["enable.ssl.certificate.verification"] = false;
    config["ssl.endpoint.identification.algorithm"] = "none";
  }
  if (sasl) {
    config["sasl.mechanisms"] = sasl.mechanism.toUpperCase();
    config["sasl.username"] = sasl.username;
    config["sasl.password"] = sasl.password;
  }
  return config;
}

/** A consumer that never joins a group: partitions are assigned by hand, nothing is committed. */
export function assignedConsumer(
  bootstrap: string,
  connection: Connection | undefined,
  settings: RdConfig,
): KafkaConsumer {
  return new rdkafka.KafkaConsumer(
    {
      ...rdkafkaConfig(bootstrap, connection),
      "group.id": "kafka-chaos-reader",
      "enable.auto.commit": false,
      "enable.auto.offset.store": false,
      "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
      ...settings,
    },
    { "auto.offset.reset": "earliest" },
  );
}

export function connect(client: KafkaConsumer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) =>
    client.connect({ timeout: timeoutMs }, (err) => (err ? reject(rdError(err)) : resolve())),
  );
}

export function disconnect(client: KafkaConsumer): Promise<void> {
  return new Promise((resolve) => {
    if (!client.isConnected()) return resolve();
    client.disconnect(() => resolve());
  });
}

/** Up to `max` messages, or fewer once the consumer's default consume timeout has passed. */
export function consume(client: KafkaConsumer, max: number): Promise<Message[]> {
  return new Promise((resolve, reject) =>
    client.consume(max, (err, messages) => (err ? reject(rdError(err)) : resolve(messages))),
  );
}

/** The topic's partition ids; an error when the topic is not there. */
export function partitionsOf(
  client: KafkaConsumer,
  topic: string,
  timeoutMs: number,
): Promise<number[]> {
  return new Promise((resolve, reject) =>
    client.getMetadata({ topic, timeout: timeoutMs }, (err, metadata) => {
      if (err) return reject(rdError(err));
      const found = metadata.topics.find((t) => t.name === topic);
      if (!found || found.partitions.length === 0)
        return reject(new Error(`topic ${topic} not found`));
      resolve(found.partitions.map((p) => p.id).sort((a, b) => a - b));
    }),
  );
}

/**
 * A partition's low and high offsets. librdkafka asks with the consumer's isolation level: the
 * high offset of a read_committed consumer is the last stable offset.
 */
export function watermarks(
  client: KafkaConsumer,
  topic: string,
  partition: number,
  timeoutMs: number,
): Promise<{ low: number; high: number }> {
  return new Promise((resolve, reject) =>
    client.queryWatermarkOffsets(topic, partition, timeoutMs, (err, offsets) =>
      err ? reject(rdError(err)) : resolve({ low: offsets.lowOffset, high: offsets.highOffset }),
    ),
  );
}

/** An Error with librdkafka's code name in its message. */
export function rdError(err: LibrdKafkaError | Error): Error {
  const e = err as LibrdKafkaError;
  const error = new Error(e.message ?? String(err));
  error.name = "LibrdKafkaError";
  Object.assign(error, { code: e.code, retriable: e.isRetriable ?? false });
  return error;
}
