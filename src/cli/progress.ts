import ora from "ora";
import type { Progress } from "../producer/producer.js";

/** Where a live run's progress goes: a spinner on a terminal, plain lines in a CI log. */
export interface ProgressView {
  update(progress: Progress, faults: string[], processed?: number): void;
  /** a line to keep (e.g. "interrupted: …") */
  info(line: string): void;
  stop(): void;
}

export interface ProgressViewOptions {
  stream: Pick<NodeJS.WriteStream, "write" | "isTTY">;
  /** --quiet: nothing at all */
  quiet: boolean;
  title: string;
  /** plain lines: one every this many ms (default 5 s) */
  everyMs?: number;
  now?: () => number;
}

/**
 * On a TTY an ora spinner whose text follows the counts; elsewhere (CI logs, pipes) one plain
 * line every few seconds, so a log shows the run is alive and how far it got.
 */
export function progressView(opts: ProgressViewOptions): ProgressView {
  if (opts.quiet) return { update() {}, info() {}, stop() {} };
  if (opts.stream.isTTY) {
    const spinner = ora({ stream: opts.stream as NodeJS.WriteStream }).start(
      `starting ${opts.title}`,
    );
    return {
      update: (p, faults, processed) => (spinner.text = progressText(p, faults, processed)),
      info: (line) => spinner.info(line),
      stop: () => spinner.stop(),
    };
  }
  const now = opts.now ?? Date.now;
  const every = opts.everyMs ?? 5000;
  const started = now();
  let next = started + every;
  return {
    update(p, faults, processed) {
      const t = now();
      if (t < next) return;
      next = t + every;
      const elapsed = Math.round((t - started) / 1000);
      opts.stream.write(`progress ${elapsed}s: ${progressText(p, faults, processed)}\n`);
    },
    info: (line) => opts.stream.write(`${line}\n`),
    stop() {},
  };
}

export function progressText(p: Progress, faults: string[], processed?: number): string {
  const counts = [
    `sent ${p.sent}`,
    `acked ${p.acked}`,
    `failed ${p.failed}`,
    `unknown ${p.unknown}`,
    ...(processed === undefined ? [] : [`processed ${processed}`]),
  ];
  return `${counts.join("  ")}  faults: ${faults.join(", ") || "none active"}`;
}
