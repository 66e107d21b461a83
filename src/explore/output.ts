/**
 * What an exploration leaves in its directory: summary.json (every trial, the shrink steps, the
 * minimal case), replay.yaml (a plain profile with the minimal schedule and its seed, for
 * `kafka-chaos run --profile replay.yaml`) and the minimal run's HTML report, linked.
 */
import fs from "node:fs";
import path from "node:path";
import { profileToYaml } from "../profiles/load.js";
import type { Profile } from "../profiles/schema.js";
import { HTML_REPORT } from "../run/html.js";
import { profileOf, type Case } from "./case.js";
import { summaryOf, type Exploration } from "./explore.js";

export const REPLAY_FILE = "replay.yaml";
export const SUMMARY_FILE = "summary.json";

export interface Written {
  summary: string;
  replay?: string;
  /** the minimal run's report.html */
  report?: string;
}

/** The replay profile: the user's profile with the minimal case and its seed. */
export function replayProfile(profile: Profile, minimal: Case, e: Exploration): Profile {
  const f = e.finding!;
  const why = `${f.signature.hop} ${f.signature.count}`;
  return {
    ...profileOf(profile, minimal),
    name: `${profile.name}-replay`,
    description: `kafka-chaos explore (seed ${e.seed}) of ${profile.name}: the smallest schedule found that shows ${why}`,
    seed: minimal.seed,
  };
}

export function writeExploration(root: string, profile: Profile, e: Exploration): Written {
  fs.mkdirSync(root, { recursive: true });
  const written: Written = { summary: path.join(root, SUMMARY_FILE) };
  const f = e.finding;
  if (f) {
    written.replay = path.join(root, REPLAY_FILE);
    fs.writeFileSync(written.replay, profileToYaml(replayProfile(profile, f.minimal, e)));
    const report = f.minimalDir && path.join(f.minimalDir, HTML_REPORT);
    if (report && fs.existsSync(report)) written.report = report;
  }
  const summary = {
    ...summaryOf(e, profile.name),
    replay: written.replay ? path.relative(root, written.replay) : null,
    report: written.report ? path.relative(root, written.report) : null,
  };
  fs.writeFileSync(written.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return written;
}
