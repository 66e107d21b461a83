/** The run's topics: which it has, and how they are configured. */
import type { Profile } from "../profiles/schema.js";

/** The output is written in transactions (the user's app may use them: it counts as so). */
export function transactionalOutput(profile: Profile): boolean {
  return profile.app !== undefined || profile.processor.commit === "transaction";
}

/** The processor writes to an output topic (not to a sink). */
export function hasOutputTopic(profile: Profile): boolean {
  return profile.processor.enabled && profile.sink.type === "none";
}

/**
 * The run's topic configs: the profile's workload.topicConfig, and a max.message.bytes that fits
 * the run's batches (the profile's own when it is larger).
 */
export function topicConfigOf(profile: Profile, maxMessageBytes: number): Record<string, string> {
  const config = { ...(profile.workload.topicConfig ?? {}) };
  const given = Number(config["max.message.bytes"] ?? 0);
  config["max.message.bytes"] = String(Math.max(given, maxMessageBytes));
  return config;
}

/** The config of the run's topic of this role (input or output). */
export function runTopicConfig(
  profile: Profile,
  role: string,
  sizes: { input: number; output: number },
): Record<string, string> {
  // The app's own batches may be larger than ours: its output keeps the broker's limit.
  if (role === "output" && profile.app) return { ...(profile.workload.topicConfig ?? {}) };
  return topicConfigOf(profile, role === "output" ? sizes.output : sizes.input);
}
