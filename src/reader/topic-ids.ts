/**
 * A topic's identity: its topic id, which changes when a topic is deleted and made again under
 * the same name (offsets then restart, and a drain would read another topic's life). Recorded
 * when the run makes its topics, checked before they are drained.
 */
import { setTimeout as sleep } from "node:timers/promises";
import rdkafka from "@confluentinc/kafka-javascript";
import { InfrastructureError } from "../errors.js";
import { rdError, rdkafkaConfig } from "../clients/librdkafka.js";
import type { Connection } from "../clients/connection.js";

/**
 * topic → its id, for topics the run just made: asked again for up to `waitMs` while the
 * cluster's metadata does not show them all yet. A topic still missing then is left out (it is
 * not checked).
 */
export async function topicIds(
  bootstrap: string,
  connection: Connection | undefined,
  topics: readonly string[],
  waitMs = 10_000,
): Promise<Record<string, string>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const ids = await describeIds(bootstrap, connection, topics).catch(
      () => ({}) as Record<string, string>,
    );
    if (topics.every((t) => ids[t] !== undefined) || Date.now() > deadline) return ids;
    await sleep(250);
  }
}

/** topic → its id (base64), as the cluster describes it now; a missing topic is absent. */
async function describeIds(
  bootstrap: string,
  connection: Connection | undefined,
  topics: readonly string[],
): Promise<Record<string, string>> {
  const admin = rdkafka.AdminClient.create(rdkafkaConfig(bootstrap, connection));
  try {
    const described = await new Promise<rdkafka.TopicDescription[]>((resolve, reject) =>
      admin.describeTopics([...topics], { timeout: 10_000 }, (err, result) =>
        err ? reject(rdError(err)) : resolve(result),
      ),
    );
    const ids: Record<string, string> = {};
    for (const d of described) {
      // The binding hands `base64`; its type declarations say `base64str`.
      const id = d.topicId as { base64?: string; base64str?: string } | undefined;
      const text = id?.base64 ?? id?.base64str;
      if (!d.error && text) ids[d.name] = text;
    }
    return ids;
  } finally {
    admin.disconnect();
  }
}

/**
 * Refuses to judge topics that are not the ones the run made (exit 3, naming the topic). A topic
 * the cluster does not describe right now (its metadata still settling after a broker fault) is
 * asked for again for up to `waitMs`; an id that differs is final at once.
 */
export async function checkTopicIds(
  bootstrap: string,
  connection: Connection | undefined,
  made: Record<string, string>,
  waitMs = 10_000,
): Promise<void> {
  const topics = Object.keys(made);
  if (topics.length === 0) return;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const now = await describeIds(bootstrap, connection, topics).catch(
      () => ({}) as Record<string, string>,
    );
    const other = topics.find((t) => now[t] !== undefined && now[t] !== made[t]);
    if (other) {
      throw new InfrastructureError(
        bootstrap,
        `topic ${other} was deleted and made again during the run (topic id ${made[other]} when the run made it, ${now[other]} now): what it holds is not this run's; the run is not judged`,
      );
    }
    const missing = topics.find((t) => now[t] === undefined);
    if (missing === undefined) return;
    if (Date.now() > deadline) {
      throw new InfrastructureError(
        bootstrap,
        `topic ${missing} was deleted during the run (the cluster does not describe it): what it held is not there to judge; the run is not judged`,
      );
    }
    await sleep(500);
  }
}
