import { claimWarnings } from "../profiles/claim-warnings.js";
import { listProfiles, loadProfile, profileToYaml } from "../profiles/load.js";

/** `profiles NAME` prints the profile as YAML on stdout and what cannot hold on stderr. */
export async function profilesCommand(name?: string): Promise<number> {
  if (name) {
    const profile = await loadProfile(name);
    process.stdout.write(profileToYaml(profile));
    for (const w of claimWarnings(profile)) console.error(`warning: ${w}`);
    return 0;
  }
  const all = await listProfiles();
  const width = Math.max(...all.map((p) => p.name.length));
  for (const p of all)
    console.log(`${p.name.padEnd(width)}  claims ${p.claims.padEnd(13)}  ${p.description}`);
  return 0;
}
