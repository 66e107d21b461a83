import { Command, InvalidArgumentError } from "commander";
import { KafkaChaosError, UsageError } from "../errors.js";
import {
  healNode,
  isolateNode,
  killNode,
  localNodes,
  localStack,
  pauseNode,
  resumeNode,
  setReplicationLatency,
  startNode,
  stopNode,
} from "./nodes.js";
import { KAFKA_VERSION } from "./paths.js";
import { down, isReady, status, up, type NodeStatus } from "./stack.js";

const say = (line: string): void => console.error(`stack: ${line}`);

/**
 * `npm run stack:up|down|status` — the local real Kafka + Toxiproxy stack; `npm run stack -- kill 2`
 * and the other node commands — broker faults by hand.
 */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command("stack")
    .description("local Apache Kafka (KRaft) + Toxiproxy on 127.0.0.1, no Docker")
    .exitOverride();
  program
    .command("up")
    .description("start the stack (idempotent) and wait until it is ready")
    .option("--brokers <n>", "1 or 3 Kafka nodes", parseBrokers, 1)
    .option(
      "--kafka <version>",
      `Apache Kafka version, fetched from Maven Central (default ${KAFKA_VERSION}, or the running stack's)`,
      parseVersion,
    )
    .option("--postgres", "also start a local PostgreSQL (for the postgres sink)", false)
    .option(
      "--secure",
      "also open SASL_SSL (SCRAM) and mutual-TLS listeners, throwaway certs",
      false,
    )
    .action(
      async (opts: { brokers: number; kafka?: string; postgres: boolean; secure: boolean }) => {
        const t0 = Date.now();
        const info = await up({
          brokers: opts.brokers,
          ...(opts.kafka ? { kafka: opts.kafka } : {}),
          postgres: opts.postgres,
          secure: opts.secure,
          log: say,
        });
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        say(`${info.started ? "ready" : "already running"} in ${secs}s`);
        console.log(`KAFKA_CHAOS_BOOTSTRAP=${info.bootstrap}`);
        console.log(`TOXIPROXY_URL=${info.toxiproxy}`);
        if (info.postgres) console.log(`KAFKA_CHAOS_PG_URL=${info.postgres}`);
        if (info.secure) {
          say(`SASL_SSL (SCRAM) on ${info.secure.saslBootstrap}: source ${info.secure.saslEnv}`);
          say(`mutual TLS on ${info.secure.mtlsBootstrap}: source ${info.secure.mtlsEnv}`);
        }
      },
    );
  program
    .command("down")
    .description("stop the processes the stack started and remove their data")
    .action(async () => {
      await down(say);
    });
  program
    .command("status")
    .description("show what is running; exit 3 unless everything is ready")
    .action(async () => {
      const s = await status();
      for (const k of s.kafka) {
        console.log(
          `kafka-${k.nodeId}  ${k.bootstrap}  pid ${k.pid ?? "-"}  ${nodeState(k)}${replicationNote(k)}  (Kafka ${s.info?.kafka ?? KAFKA_VERSION})`,
        );
      }
      const t = s.toxiproxy;
      console.log(`toxiproxy  ${t.url}  pid ${t.pid ?? "-"}  ${t.ready ? "ready" : "down"}`);
      const p = s.postgres;
      if (p) console.log(`postgres  ${p.url}  pid ${p.pid ?? "-"}  ${p.ready ? "ready" : "down"}`);
      if (!isReady(s) || (p && !p.ready)) code = 3;
    });
  const nodeCommand = (
    name: string,
    description: string,
    act: (nodeId: number) => Promise<void>,
    done: string,
  ): void => {
    program
      .command(name)
      .description(description)
      .argument("<node>", "node id (1-3)")
      .action(async (node: string) => {
        const nodeId = parseNodeId(node);
        const wasUp = localNodes().some((n) => n.nodeId === nodeId && n.pid !== undefined);
        const t0 = Date.now();
        await act(nodeId);
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        if (name === "start" && wasUp) say(`node ${nodeId} is already running`);
        else if ((name === "kill" || name === "stop") && !wasUp)
          say(`node ${nodeId} was not running`);
        else say(`node ${nodeId} ${done} (${secs}s)`);
      });
  };
  nodeCommand("kill", "SIGKILL a Kafka node (its data stays)", killNode, "killed");
  nodeCommand(
    "stop",
    "SIGTERM a Kafka node: controlled shutdown (its data stays)",
    stopNode,
    "stopped",
  );
  nodeCommand(
    "start",
    "start a down Kafka node on its data; waits until registered",
    (id) => startNode(id),
    "started",
  );
  nodeCommand("pause", "SIGSTOP a Kafka node", pauseNode, "paused");
  nodeCommand("resume", "SIGCONT a paused Kafka node", resumeNode, "resumed");
  nodeCommand(
    "isolate",
    "cut replication from a node: disable its replication proxy (3 nodes)",
    isolateNode,
    "isolated: followers cannot fetch from it",
  );
  nodeCommand("heal", "re-enable a node's replication proxy", healNode, "healed");
  program
    .command("latency")
    .description("add latency to what followers fetch from a node (3 nodes); `off` removes it")
    .argument("<node>", "node id (1-3)")
    .argument("<ms>", "milliseconds, or off")
    .action(async (node: string, ms: string) => {
      const nodeId = parseNodeId(node);
      const value = ms === "off" ? undefined : Number(ms);
      if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
        throw new UsageError(`latency: expected whole milliseconds or off, got "${ms}"`);
      }
      await setReplicationLatency(nodeId, value);
      say(
        value === undefined
          ? `node ${nodeId}: replication latency removed`
          : `node ${nodeId}: replication latency ${value} ms`,
      );
    });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    return exitCodeFor(err);
  }
  return code;
}

/** A node id of the local stack; anything else is a usage error (exit 2). */
function parseNodeId(value: string): number {
  const stack = localStack();
  const known = localNodes().map((n) => n.nodeId);
  const n = Number(value);
  if (!/^\d+$/.test(value) || !known.includes(n)) {
    throw new UsageError(
      stack
        ? `no Kafka node "${value}": the local stack has node${known.length > 1 ? "s" : ""} ${known.join(", ")}`
        : `no Kafka node "${value}": no local stack is running here (run \`npm run stack:up\`)`,
    );
  }
  return n;
}

function nodeState(k: NodeStatus): string {
  if (k.paused) return "paused";
  if (k.ready) return "ready";
  return k.pid ? "not ready" : "down";
}

function replicationNote(k: NodeStatus): string {
  const r = k.replication;
  if (!r) return "";
  const state = r.enabled === undefined ? "proxy missing" : r.enabled ? "enabled" : "ISOLATED";
  const toxics = r.toxics.length > 0 ? `, ${r.toxics.join(" ")}` : "";
  return `  replication via ${r.listen} (${state}${toxics})`;
}

function parseVersion(value: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(value)) {
    throw new InvalidArgumentError("expected an Apache Kafka version such as 4.1.1");
  }
  return value;
}

function parseBrokers(value: string): number {
  if (value !== "1" && value !== "3") throw new InvalidArgumentError("must be 1 or 3");
  return Number(value);
}

function exitCodeFor(err: unknown): number {
  const e = err as { code?: string; exitCode?: number };
  if (typeof e.code === "string" && e.code.startsWith("commander.")) {
    return e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : 2;
  }
  if (err instanceof KafkaChaosError) {
    say(err.message);
    return err.exitCode;
  }
  say(`unexpected error: ${(err as Error).stack ?? String(err)}`);
  return 3;
}
