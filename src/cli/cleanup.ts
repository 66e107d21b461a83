import toxiproxyClient from "toxiproxy-node-client";
import { InfrastructureError } from "../errors.js";
import { Cluster } from "../run/cluster.js";
import { kafkaClient } from "../workload/client.js";

/** Names a run creates with the default prefix: kc-<YYYYMMDD>-<HHMMSS>-<rand>-… */
export const RUN_NAME = /^kc-\d{8}-\d{6}-[a-z0-9]{4}-/;

export async function cleanupCommand(flags: {
  bootstrap: string;
  toxiproxy: string;
  dryRun: boolean;
}): Promise<number> {
  const verb = flags.dryRun ? "would remove" : "removed";
  const toxiproxy = new toxiproxyClient.Toxiproxy(flags.toxiproxy);
  const proxies = await toxiproxy.getAll().catch((err: Error) => {
    throw new InfrastructureError(flags.toxiproxy, `Toxiproxy is not reachable (${err.message})`);
  });
  for (const [name, proxy] of Object.entries(proxies)) {
    if (!RUN_NAME.test(name)) continue;
    if (!flags.dryRun) await proxy.remove();
    console.log(`${verb} proxy ${name}`);
  }
  const kafka = kafkaClient({
    clientId: "kafka-chaos-cleanup",
    brokers: flags.bootstrap.split(","),
    retries: 1,
  });
  const cluster = await Cluster.connect(kafka, flags.bootstrap);
  try {
    const { topics, groups } = await cluster.leftovers(RUN_NAME);
    for (const t of topics) console.log(`${verb} topic ${t}`);
    for (const g of groups) console.log(`${verb} group ${g}`);
    if (!flags.dryRun) await cluster.deleteMatching(RUN_NAME, topics, groups);
  } finally {
    await cluster.close();
  }
  return 0;
}
