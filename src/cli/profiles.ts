import { listProfiles, loadProfile, profileToYaml } from "../profiles/load.js";

export async function profilesCommand(name?: string): Promise<number> {
  if (name) {
    process.stdout.write(profileToYaml(await loadProfile(name)));
    return 0;
  }
  const all = await listProfiles();
  const width = Math.max(...all.map((p) => p.name.length));
  for (const p of all)
    console.log(`${p.name.padEnd(width)}  claims ${p.claims.padEnd(13)}  ${p.description}`);
  return 0;
}
