import { parseDuration } from "../faults/spec.js";
import { Cluster } from "../run/cluster.js";
import { kafkaClient } from "../clients/kafkajs.js";
import { liveHolder, releaseLease } from "../stack/leases.js";
import { isStackProxy } from "../stack/nodes.js";
import { connectionFrom, type ConnectionFlags } from "../clients/connection.js";
import { isLive, leaseOf, leaseProxyName, type LeaseInfo } from "../faults/run-lease.js";
import { PG_URL_ENV } from "../sinks/index.js";
import { listProxies, toxiproxyOk } from "../toxiproxy-api.js";
import { dropTables, runTables } from "../sinks/postgres.js";
import { localPostgres } from "../stack/nodes.js";

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

type Match = { test(name: string): boolean };

/**
 * What belongs to runs that are gone, by the runs' leases in Toxiproxy (`leases`: a run's name
 * prefix `kc-…-` → its lease). A live run's names are never taken, however old; a run whose
 * lease marks it dead has its proxies and toxics taken at once (`toxiproxy`), its topics and
 * groups by age as before (an interrupted run's topics let `reconcile` judge it). Names of a
 * run without a lease (older versions, or killed before it took one) go by age.
 */
export function leftovers(
  byAge: Match,
  leases: Map<string, LeaseInfo>,
  now: number,
  live: (lease: LeaseInfo) => boolean = (l) => isLive(l, now),
): { toxiproxy: Match; cluster: Match } {
  const leaseFor = (name: string) => {
    const run = RUN_NAME.exec(name)?.[0];
    return run === undefined ? undefined : leases.get(run);
  };
  return {
    toxiproxy: {
      test: (name) => {
        const lease = leaseFor(name);
        return lease ? !live(lease) : byAge.test(name);
      },
    },
    cluster: {
      test: (name) => {
        const lease = leaseFor(name);
        return (!lease || !live(lease)) && byAge.test(name);
      },
    },
  };
}

/** The runs' leases among Toxiproxy's proxies, by the run's name prefix. */
export function leasesIn(proxies: Record<string, { upstream: string }>): Map<string, LeaseInfo> {
  const leases = new Map<string, LeaseInfo>();
  for (const [name, proxy] of Object.entries(proxies)) {
    const run = RUN_NAME.exec(name)?.[0];
    const lease = leaseOf(proxy.upstream);
    // `run` is the prefix and its trailing "-"
    if (run && lease && name === leaseProxyName(run.slice(0, -1))) leases.set(run, lease);
  }
  return leases;
}

export async function cleanupCommand(
  flags: {
    bootstrap: string;
    toxiproxy: string;
    dryRun: boolean;
    olderThan: string;
    pgUrl?: string;
  } & ConnectionFlags,
): Promise<number> {
  const verb = flags.dryRun ? "would remove" : "removed";
  const byAge = leftFromBefore(Date.now() - parseDuration(flags.olderThan, "--older-than"));
  const match = await cleanToxiproxy(flags.toxiproxy, byAge, flags.dryRun);
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
  await cleanTables(flags.pgUrl, match, verb, flags.dryRun);
  return 0;
}

/**
 * The PostgreSQL sink tables of runs that are gone, matched like their topics, in the server
 * given (--pg-url, else $KAFKA_CHAOS_PG_URL, else the local stack's when it runs one).
 */
async function cleanTables(given: string | undefined, match: Match, verb: string, dryRun: boolean) {
  const local = localPostgres();
  const url = given ?? process.env[PG_URL_ENV] ?? local;
  if (url === undefined) return;
  const tables = await runTables(url).catch((err: unknown) => {
    if (url !== local) throw err;
    return []; // the local stack's server is only looked at in passing
  });
  const gone = tables.filter((t) => match.test(t.name)).map((t) => t.table);
  for (const t of gone) console.log(`${verb} table ${t}`);
  if (!dryRun && gone.length > 0) await dropTables(url, gone);
}

/**
 * Toxiproxy as runs found it: the proxies of runs that are gone, the toxics they left on
 * proxies they did not make (the stack's replication proxies: their names start with
 * `kc-<runId>`), and stack proxies a dead run's isolate-broker left disabled. Returns what of
 * the cluster may go, by the same leases.
 */
async function cleanToxiproxy(url: string, byAge: Match, dryRun: boolean): Promise<Match> {
  const api = (method: "POST" | "DELETE", path: string, body?: unknown) =>
    toxiproxyOk(url, { method, path, body, missingOk: true });
  const proxies = Object.fromEntries(await listProxies(url));
  const { toxiproxy: match, cluster } = leftovers(byAge, leasesIn(proxies), Date.now());
  const act = async (done: string, todo: string, what: () => Promise<unknown>) => {
    if (!dryRun) await what();
    console.log(dryRun ? todo : done);
  };
  for (const [name, proxy] of Object.entries(proxies)) {
    const at = `/proxies/${encodeURIComponent(name)}`;
    if (match.test(name)) {
      await act(`removed proxy ${name}`, `would remove proxy ${name}`, () => api("DELETE", at));
      continue;
    }
    for (const toxic of proxy.toxics.filter((t) => match.test(t.name))) {
      await act(
        `removed toxic ${toxic.name} from proxy ${name}`,
        `would remove toxic ${toxic.name} from proxy ${name}`,
        () => api("DELETE", `${at}/toxics/${encodeURIComponent(toxic.name)}`),
      );
    }
    if (isStackProxy(name) && !proxy.enabled && liveHolder(name) === undefined) {
      await act(
        `enabled stack proxy ${name} (left disabled by a run that ended)`,
        `would enable stack proxy ${name} (left disabled by a run that ended)`,
        async () => {
          await api("POST", at, { enabled: true });
          releaseLease(name);
        },
      );
    }
  }
  return cluster;
}
