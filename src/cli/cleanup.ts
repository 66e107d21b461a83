import toxiproxyClient from "toxiproxy-node-client";
import { InfrastructureError } from "../errors.js";
import { parseDuration } from "../faults/spec.js";
import { Cluster } from "../run/cluster.js";
import { kafkaClient } from "../clients/kafkajs.js";
import { connectionFrom, type ConnectionFlags } from "../clients/connection.js";

/** Names a run creates with the default prefix: kc-<YYYYMMDD>-<HHMMSS>-<rand>-… */
export const RUN_NAME = /^kc-(\d{8})-(\d{6})-[a-z0-9]{4}-/;

/** A name made by a run that started before `cutoff` (ms since epoch). */
export function leftFromBefore(cutoff: number): { test(name: string): boolean } {
  return {
    test(name) {
      const m = RUN_NAME.exec(name);
      if (!m) return false;
      const [d, t] = [m[1] ?? "", m[2] ?? ""];
      const started = Date.UTC(
        +d.slice(0, 4),
        +d.slice(4, 6) - 1,
        +d.slice(6, 8),
        +t.slice(0, 2),
        +t.slice(2, 4),
        +t.slice(4, 6),
      );
      return started < cutoff;
    },
  };
}

export async function cleanupCommand(
  flags: {
    bootstrap: string;
    toxiproxy: string;
    dryRun: boolean;
    olderThan: string;
  } & ConnectionFlags,
): Promise<number> {
  const verb = flags.dryRun ? "would remove" : "removed";
  const match = leftFromBefore(Date.now() - parseDuration(flags.olderThan, "--older-than"));
  const toxiproxy = new toxiproxyClient.Toxiproxy(flags.toxiproxy);
  const proxies = await toxiproxy.getAll().catch((err: Error) => {
    throw new InfrastructureError(flags.toxiproxy, `Toxiproxy is not reachable (${err.message})`);
  });
  for (const [name, proxy] of Object.entries(proxies)) {
    if (!match.test(name)) continue;
    if (!flags.dryRun) await proxy.remove();
    console.log(`${verb} proxy ${name}`);
  }
  const kafka = kafkaClient({
    clientId: "kafka-chaos-cleanup",
    brokers: flags.bootstrap.split(","),
    retries: 1,
    connection: connectionFrom(flags),
  });
  const cluster = await Cluster.connect(kafka, flags.bootstrap);
  try {
    const { topics, groups } = await cluster.leftovers(match);
    for (const t of topics) console.log(`${verb} topic ${t}`);
    for (const g of groups) console.log(`${verb} group ${g}`);
    if (!flags.dryRun) await cluster.deleteMatching(match, topics, groups);
  } finally {
    await cluster.close();
  }
  return 0;
}
