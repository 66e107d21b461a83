import net from "node:net";
import tls from "node:tls";
import kafkajs, { type ISocketFactory, type KafkaConfig } from "kafkajs";
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import type { Connection } from "./connection.js";

/** The client's name and version, as reports label what it did. */
export const KAFKAJS = `kafkajs ${(createRequire(import.meta.url)("kafkajs/package.json") as { version: string }).version}`;

/** Where a broker's connections should really go, e.g. "127.0.0.1:9092" → its proxy "127.0.0.1:21000". */
export type Route = Map<string, { host: string; port: number }>;

export interface ClientOptions {
  clientId: string;
  brokers: string[];
  route?: Route;
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  retries?: number;
  connection?: Connection;
}

/**
 * A kafkajs client. With a route, every broker connection goes to that broker's proxy instead,
 * so faults apply without any listener change on the cluster. An address missing from the
 * route is refused rather than connected directly, so no traffic can bypass the faults.
 */
export function kafkaClient(opts: ClientOptions): kafkajs.Kafka {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    requestTimeout: opts.requestTimeoutMs ?? 5000,
    retry: { retries: opts.retries ?? 5, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: kafkajs.logLevel.NOTHING,
  };
  const { ssl, sasl } = opts.connection ?? {};
  if (ssl) config.ssl = ssl;
  if (sasl)
    config.sasl = {
      mechanism: sasl.mechanism,
      username: sasl.username,
      password: sasl.password,
    } as KafkaConfig["sasl"];
  if (opts.route) config.socketFactory = routedSockets(opts.route);
  return new kafkajs.Kafka(config);
}

function routedSockets(route: Route): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const target = route.get(`${host}:${port}`);
    if (!target) {
      const socket = new net.Socket();
      process.nextTick(() => socket.destroy(new Error(`no proxy for broker ${host}:${port}`)));
      return socket;
    }
    // TLS goes end to end through the proxy; the certificate must match the broker, not the proxy.
    const socket = ssl
      ? tls.connect(
          {
            ...(ssl as tls.ConnectionOptions),
            host: target.host,
            port: target.port,
            ...(net.isIP(host) ? {} : { servername: host }),
            checkServerIdentity: (_, cert) => tls.checkServerIdentity(host, cert),
          },
          onConnect,
        )
      : net.connect({ host: target.host, port: target.port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}

/**
 * kafkajs registers a transactional id only at the first `transaction()`. Doing it at once
 * fences any older producer with the same id and makes the coordinator finish that producer's
 * open transaction (abort it, or complete a commit already under way).
 */
export async function initTransactions(producer: kafkajs.Producer): Promise<void> {
  const tx = await producer.transaction();
  await tx.abort(); // nothing was sent in it: no request goes out
}

const CREATE_CLUSTER = "private:Kafka:createCluster";

/** A record of a raw fetch: kafkajs decodes each batch and copies its context onto its records. */
export interface RawFetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

export interface RawBroker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: {
      topic: string;
      partitions: { partition: number; fetchOffset: string; maxBytes: number }[];
    }[];
  }): Promise<{
    responses: { partitions: { partition: number; messages: RawFetchedRecord[] }[] }[];
  }>;
}

/** kafkajs's cluster below the consumer: metadata, list offsets and raw fetches. */
export interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findBroker(at: { nodeId: number }): Promise<RawBroker>;
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ partitions: { partition: number; offset: string }[] }[]>;
}

export const READ_UNCOMMITTED = 0;

/**
 * kafkajs's cluster at an isolation level of our choosing, through its private factory (kafkajs
 * 2.2.4 is its last release: the factory stays as it is). Its admin lists offsets
 * read_committed only, and its consumer filters aborted transactions wrongly; the raw fetch
 * below them does neither.
 */
export function rawCluster(kafka: kafkajs.Kafka, isolationLevel: number): RawCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  if (!symbol) throw new Error("kafkajs: no cluster factory (a kafkajs other than 2.2.x?)");
  const create = (kafka as unknown as Record<symbol, (o: object) => RawCluster>)[symbol]!;
  return create({ isolationLevel });
}

/**
 * One raw read_uncommitted fetch of a partition from `offset`, from its leader as last known.
 * A fetch that fails (the leader moving, a broker back from a fault) gives no records: after
 * `retryMs` the metadata is refreshed, and the caller fetches again.
 */
export async function fetchRaw(
  cluster: RawCluster,
  topic: string,
  partition: number,
  offset: number,
  maxBytes: number,
  retryMs: number,
): Promise<RawFetchedRecord[]> {
  try {
    return await fetchOnce(cluster, topic, partition, offset, maxBytes);
  } catch {
    await sleep(retryMs);
    await cluster.refreshMetadata().catch(() => {});
    return [];
  }
}

async function fetchOnce(
  cluster: RawCluster,
  topic: string,
  partition: number,
  offset: number,
  maxBytes: number,
): Promise<RawFetchedRecord[]> {
  const leader = cluster
    .findTopicPartitionMetadata(topic)
    .find((p) => p.partitionId === partition)?.leader;
  if (leader === undefined) throw new Error(`no leader for ${topic}/${partition}`);
  const broker = await cluster.findBroker({ nodeId: leader });
  const response = await broker.fetch({
    isolationLevel: READ_UNCOMMITTED,
    maxWaitTime: 100,
    minBytes: 1,
    maxBytes,
    topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes }] }],
  });
  return (
    response.responses.flatMap((r) => r.partitions).find((p) => p.partition === partition)
      ?.messages ?? []
  );
}

/** A client straight to the cluster (never through a proxy), for admin work and reads. */
export function directClient(
  prefix: string,
  bootstrap: string,
  connection?: Connection,
): kafkajs.Kafka {
  const brokers = bootstrap.split(",").map((b) => b.trim());
  return kafkaClient({
    clientId: `${prefix}-admin`,
    brokers,
    retries: 2,
    connectionTimeoutMs: 2000,
    connection,
  });
}
