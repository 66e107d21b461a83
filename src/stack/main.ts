import { Command, InvalidArgumentError } from "commander";
import { KafkaChaosError } from "../errors.js";
import { down, isReady, status, up } from "./stack.js";

const say = (line: string): void => console.error(`stack: ${line}`);

/** `npm run stack:up|down|status` — the local real Kafka + Toxiproxy stack. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command("stack")
    .description("local Apache Kafka (KRaft) + Toxiproxy on 127.0.0.1, no Docker")
    .exitOverride();
  program
    .command("up")
    .description("start the stack (idempotent) and wait until it is ready")
    .option("--brokers <n>", "1 or 3 Kafka nodes", parseBrokers, 1)
    .option("--postgres", "also start a local PostgreSQL (for the postgres sink)", false)
    .option(
      "--secure",
      "also open SASL_SSL (SCRAM) and mutual-TLS listeners, throwaway certs",
      false,
    )
    .action(async (opts: { brokers: number; postgres: boolean; secure: boolean }) => {
      const t0 = Date.now();
      const info = await up({
        brokers: opts.brokers,
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
    });
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
          `kafka-${k.nodeId}  ${k.bootstrap}  pid ${k.pid ?? "-"}  ${k.ready ? "ready" : "down"}`,
        );
      }
      const t = s.toxiproxy;
      console.log(`toxiproxy  ${t.url}  pid ${t.pid ?? "-"}  ${t.ready ? "ready" : "down"}`);
      const p = s.postgres;
      if (p) console.log(`postgres  ${p.url}  pid ${p.pid ?? "-"}  ${p.ready ? "ready" : "down"}`);
      if (!isReady(s) || (p && !p.ready)) code = 3;
    });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    return exitCodeFor(err);
  }
  return code;
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
