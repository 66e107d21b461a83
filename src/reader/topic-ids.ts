/**
 * A topic's identity: its topic id, which changes when a topic is deleted and made again under
 * the same name (offsets then restart, and a drain would read another topic's life). Recorded
 * when the run makes its topics, checked before they are drained.
 */
import rdkafka from "@confluentinc/kafka-javascript";
import { InfrastructureError } from "../errors.js";
import { rdError, rdkafkaConfig } from "../clients/librdkafka.js";
import type { Connection } from "../clients/connection.js";

/** topic → its id (base64), as the cluster describes it now; a missing topic is absent. */
export async function topicIds(
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

/** Refuses to judge topics that are not the ones the run made (exit 3, naming the topic). */
export async function checkTopicIds(
  bootstrap: string,
  connection: Connection | undefined,
  made: Record<string, string>,
): Promise<void> {
  const now = await topicIds(bootstrap, connection, Object.keys(made));
  for (const [topic, id] of Object.entries(made)) {
    const seen = now[topic];
    if (seen === id) continue;
    const what =
      seen === undefined
        ? "was deleted during the run"
        : `was deleted and made again during the run (topic id ${id} when the run made it, ${seen} now)`;
    throw new InfrastructureError(
      bootstrap,
      `topic ${topic} ${what}: what it holds is not this run's; the run is not judged`,
    );
  }
}
