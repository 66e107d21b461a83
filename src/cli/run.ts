import ora from "ora";
import { applyOverrides, loadProfile } from "../profiles/load.js";
import { reconcileDir, runChaos } from "../run/run.js";
import { emitReport, verdictCode } from "./output.js";

interface RunFlags {
  profile: string;
  bootstrap: string;
  toxiproxy: string;
  messages?: number;
  duration?: string;
  seed?: number;
  fault: string[];
  topicPrefix?: string;
  out?: string;
  json?: string;
  keep: boolean;
}

export const INTERRUPTED = 130;

export async function runCommand(flags: RunFlags): Promise<number> {
  const profile = applyOverrides(await loadProfile(flags.profile), {
    messages: flags.messages,
    duration: flags.duration,
    faults: flags.fault,
  });
  const quiet = flags.json === "-" || !process.stderr.isTTY;
  const spinner = quiet
    ? undefined
    : ora({ stream: process.stderr }).start(`starting ${profile.name}`);
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(INTERRUPTED);
    spinner?.info("interrupted: healing faults and removing proxies (Ctrl-C again to force)");
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const result = await runChaos({
      profile,
      bootstrap: flags.bootstrap,
      toxiproxy: flags.toxiproxy,
      seed: flags.seed,
      topicPrefix: flags.topicPrefix,
      outDir: flags.out,
      keep: flags.keep,
      signal: interrupt.signal,
      onProgress: (p, faults) => {
        if (spinner) {
          spinner.text = `sent ${p.sent}  acked ${p.acked}  unknown ${p.unknown}  failed ${p.failed}  faults: ${faults.join(", ") || "none active"}`;
        }
      },
    });
    spinner?.stop();
    if (result.interrupted) {
      console.error(
        `kafka-chaos: run interrupted; its topic is kept. Judge it with: kafka-chaos reconcile ${result.dir}`,
      );
      return INTERRUPTED;
    }
    emitReport(result.report, flags.json);
    if (flags.json !== "-") console.error(`run directory: ${result.dir}`);
    return verdictCode(result.report);
  } finally {
    spinner?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export async function reconcileCommand(dir: string, flags: { json?: string }): Promise<number> {
  const report = await reconcileDir(dir);
  emitReport(report, flags.json);
  return verdictCode(report);
}
