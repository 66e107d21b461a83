import { setTimeout as sleep } from "node:timers/promises";
import kafkajs from "kafkajs";
import { InfrastructureError, UsageError } from "../errors.js";
import type { Broker } from "../faults/proxies.js";
import { topicEndOffsets } from "../reader/offsets.js";
import { errorText } from "../errors.js";

/** Kafka's default socket.request.max.bytes (100 MiB). */
export const DEFAULT_SOCKET_REQUEST_MAX_BYTES = 104_857_600;

/** The largest request the brokers accept, and where that number comes from. */
export interface RequestLimit {
  bytes: number;
  /** e.g. "broker 1", or "Kafka's default" when the brokers' configs could not be read */
  source: string;
}

const LEADERS_WAIT_MS = 15_000;

/** Admin operations of a run, over a direct connection; only names under the run's prefix. */
export class Cluster {
  private constructor(
    private readonly kafka: kafkajs.Kafka,
    private readonly admin: kafkajs.Admin,
    readonly bootstrap: string,
    readonly brokers: Broker[],
    /** node id of the active controller as the cluster reports it; null when unknown */
    readonly controller: number | null = null,
  ) {}

  static async connect(kafka: kafkajs.Kafka, bootstrap: string): Promise<Cluster> {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const { brokers, controller } = await admin.describeCluster();
      return new Cluster(
        kafka,
        admin,
        bootstrap,
        brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
        controller,
      );
    } catch (err) {
      await admin.disconnect().catch(() => {});
      throw new InfrastructureError(
        bootstrap,
        `cannot reach the Kafka cluster (${errorText(err)})`,
      );
    }
  }

  /** Refuses a prefix that already names topics: they are not this run's to write or delete. */
  async assertPrefixFree(prefix: string): Promise<void> {
    const taken = (await this.admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (taken.length > 0) {
      throw new UsageError(
        `--topic-prefix ${prefix}: topics already exist under it (${taken.slice(0, 3).join(", ")}); choose another prefix`,
      );
    }
  }

  /**
   * The longest replica.lag.time.max.ms of the brokers: how long a follower that stopped
   * fetching stays in the ISR. Undefined when the cluster does not say.
   */
  async replicaLagMaxMs(): Promise<number | undefined> {
    const values = (await this.brokerConfig("replica.lag.time.max.ms")).map((c) => c.value);
    return values.length > 0 ? Math.max(...values) : undefined;
  }

  /**
   * The largest request every broker accepts (socket.request.max.bytes, the smallest over the
   * brokers): a record batch, whatever the topic's max.message.bytes, must fit in one request.
   * Kafka's default when the configs cannot be read (no DescribeConfigs permission).
   */
  async requestLimit(): Promise<RequestLimit> {
    let limit: RequestLimit | undefined;
    for (const { broker, value } of await this.brokerConfig("socket.request.max.bytes")) {
      if (!Number.isInteger(value)) continue;
      if (!limit || value < limit.bytes) limit = { bytes: value, source: `broker ${broker}` };
    }
    return limit ?? { bytes: DEFAULT_SOCKET_REQUEST_MAX_BYTES, source: "Kafka's default" };
  }

  /** A numeric broker config, per broker that gives a positive value; none when unreadable. */
  private async brokerConfig(name: string): Promise<{ broker: string; value: number }[]> {
    try {
      const { resources } = await this.admin.describeConfigs({
        includeSynonyms: false,
        resources: this.brokers.map((b) => ({
          type: kafkajs.ConfigResourceTypes.BROKER,
          name: String(b.nodeId),
          configNames: [name],
        })),
      });
      return resources
        .filter((r) => r.errorCode === 0)
        .map((r) => ({
          broker: r.resourceName,
          value: Number(r.configEntries.find((e) => e.configName === name)?.configValue),
        }))
        .filter((c) => Number.isFinite(c.value) && c.value > 0);
    } catch {
      return [];
    }
  }

  /** `config`: topic configs, e.g. max.message.bytes sized for the run's batches. */
  async createTopic(
    topic: string,
    partitions: number,
    replicationFactor: number,
    config: Record<string, string> = {},
  ): Promise<void> {
    if (replicationFactor > this.brokers.length) {
      throw new UsageError(
        `workload.replicationFactor: ${replicationFactor} is more than the cluster's ${this.brokers.length} broker(s)`,
      );
    }
    try {
      const created = await this.admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: partitions,
            replicationFactor,
            configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
          },
        ],
        // kafkajs's own wait gives up on the UNKNOWN_TOPIC_OR_PARTITION a broker answers while
        // the new topic's metadata is still on its way to it: wait here instead.
        waitForLeaders: false,
        timeout: 15_000,
      });
      if (!created) throw new Error("topic already exists");
    } catch (err) {
      throw new InfrastructureError(
        this.bootstrap,
        `creating topic ${topic} was refused (${errorText(err)})`,
      );
    }
    await this.waitForLeaders(topic, partitions);
  }

  /** Until every partition of a new topic has a leader, bounded. */
  private async waitForLeaders(topic: string, partitions: number): Promise<void> {
    const deadline = Date.now() + LEADERS_WAIT_MS;
    let last = "no metadata yet";
    while (Date.now() < deadline) {
      try {
        const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
        const led = (meta.topics[0]?.partitions ?? []).filter((p) => p.leader >= 0);
        if (led.length === partitions) return;
        last = `${led.length} of ${partitions} partitions have a leader`;
      } catch (err) {
        last = errorText(err);
      }
      await sleep(200);
    }
    throw new InfrastructureError(
      this.bootstrap,
      `topic ${topic} was created but its partitions got no leader within ${LEADERS_WAIT_MS / 1000}s (${last})`,
    );
  }

  /**
   * partition → end offset (high watermark) of a topic. kafkajs's admin gives up on a leader
   * that moved without refreshing its metadata: then ask again with fresh admin clients.
   */
  async endOffsets(topic: string): Promise<Map<number, number>> {
    try {
      const offsets = await this.admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable) throw err;
      return topicEndOffsets(this.kafka, topic);
    }
  }

  /** Leader, replicas and in-sync replicas of each partition of a topic, fresh from a broker. */
  async partitions(
    topic: string,
  ): Promise<{ partition: number; leader: number; replicas: number[]; isr: number[] }[]> {
    const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
    return (meta.topics[0]?.partitions ?? [])
      .map((p) => ({
        partition: p.partitionId,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** The distinct leaders of the topic's partitions (what fault target "leader" hits). */
  async leadersOf(topic: string): Promise<number[]> {
    const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const leaders = new Set(meta.topics[0]?.partitions.map((p) => p.leader) ?? []);
    if (leaders.size === 0)
      throw new InfrastructureError(this.bootstrap, `no metadata for ${topic}`);
    return [...leaders].sort((a, b) => a - b);
  }

  /**
   * The coordinator broker of a group id (internal topic __consumer_offsets) or transactional id
   * (__transaction_state): the leader of partition abs(javaHash(key)) % partitions, as Kafka does.
   */
  async coordinatorOf(internalTopic: string, key: string): Promise<number | undefined> {
    try {
      const meta = await this.admin.fetchTopicMetadata({ topics: [internalTopic] });
      const partitions = meta.topics[0]?.partitions ?? [];
      const index = (javaHash(key) & 0x7fffffff) % partitions.length;
      return partitions.find((p) => p.partitionId === index)?.leader;
    } catch {
      return undefined; // not created yet: created on first use, then the fault hits "all"
    }
  }

  /** Deletes the run's own topics and groups (names must start with the prefix). */
  async deleteOwn(prefix: string, topics: string[], groups: string[]): Promise<void> {
    await this.deleteMatching({ test: (name) => name.startsWith(prefix) }, topics, groups);
  }

  /** Deletes only the given names that match; nothing else on the cluster is touched. */
  async deleteMatching(
    match: { test(name: string): boolean },
    topics: string[],
    groups: string[],
  ): Promise<void> {
    const t = topics.filter((n) => match.test(n));
    const g = groups.filter((n) => match.test(n));
    if (t.length > 0) await this.admin.deleteTopics({ topics: t }).catch(() => {});
    if (g.length > 0) await this.admin.deleteGroups(g).catch(() => {});
  }

  /** Topics and groups whose names match, e.g. those of interrupted runs. */
  async leftovers(match: {
    test(name: string): boolean;
  }): Promise<{ topics: string[]; groups: string[] }> {
    const topics = (await this.admin.listTopics()).filter((t) => match.test(t)).sort();
    const groups = (await this.admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => match.test(g))
      .sort();
    return { topics, groups };
  }

  async close(): Promise<void> {
    await this.admin.disconnect().catch(() => {});
  }
}

/** Java's String.hashCode, which Kafka uses to place a group or transactional id. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i += 1) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
