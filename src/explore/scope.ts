/**
 * What the exploration may break on this cluster, asked once before the search, and the run's
 * own refusals of a drawn case (the checks of `run --dry-run`), so a case that could not run is
 * redrawn instead of counted as a trial.
 */
import { KafkaChaosError } from "../errors.js";
import { templatesFromEnv } from "../faults/broker/templates.js";
import type { Need } from "../faults/kind.js";
import type { Profile } from "../profiles/schema.js";
import { Cluster } from "../run/cluster.js";
import { planRun } from "../run/plan.js";
import type { RunOptions } from "../run/run.js";
import { directClient } from "../clients/kafkajs.js";
import { isLocalStack, localNodes } from "../stack/nodes.js";
import { profileOf, type Case } from "./case.js";
import type { KindGroup, Scope } from "./generate.js";

export type ClusterAccess = Pick<
  RunOptions,
  "bootstrap" | "toxiproxy" | "connection" | "proxyHost" | "proxyPortBase"
>;

export async function probeScope(
  profile: Profile,
  groups: readonly KindGroup[],
  access: ClusterAccess,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Omit<Scope, "expectedMs">> {
  const cluster = await Cluster.connect(
    directClient("kc-explore", access.bootstrap, access.connection),
    access.bootstrap,
  );
  const brokers = cluster.brokers;
  await cluster.close();
  const local = isLocalStack(brokers);
  const commands = { ...profile.brokers?.commands, ...templatesFromEnv(env) };
  const available = new Set<Need>(["proxies"]);
  if (profile.processor.enabled && !profile.app) available.add("workers");
  if (profile.app) available.add("apps");
  if ((local && brokers.length >= 2) || Object.keys(commands).length > 0) available.add("brokers");
  if (local && localNodes().some((n) => n.replicationProxy)) available.add("replication-proxies");
  return { groups, available, brokerIds: brokers.map((b) => b.nodeId) };
}

/** What a run of the case would refuse before creating anything (exit 2), or undefined. */
export function runRefusals(profile: Profile, access: ClusterAccess) {
  return async (c: Case): Promise<string | undefined> => {
    try {
      await planRun({ ...access, profile: profileOf(profile, c), seed: c.seed });
      return undefined;
    } catch (err) {
      if (err instanceof KafkaChaosError && err.exitCode === 2) return err.message;
      // An unreachable cluster is the trial's to report (exit 3), not a reason to redraw.
      return undefined;
    }
  };
}
