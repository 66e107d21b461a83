/** Entry point of the reader of record in a child process (see read-apart.ts). */
import { directClient } from "../clients/kafkajs.js";
import { InfrastructureError } from "../errors.js";
import type { ApartReply, ApartStats } from "./read-apart.js";
import type { DrainStats } from "./drain.js";
import { readBySpec, type ReadSpec } from "./read.js";

const reply = (m: ApartReply) => new Promise((resolve) => process.send!(m, resolve));
process.on("disconnect", () => process.exit(1));
// A terminal's Ctrl-C reaches the whole process group: the CLI decides whether the read goes on.
process.on("SIGINT", () => {});

process.once("message", (read: ReadSpec) => {
  void read_(read).then(
    async (stats) => {
      await reply({ type: "done", stats });
      process.exit(0);
    },
    async (err: unknown) => {
      await reply(errorReply(err));
      process.exit(0);
    },
  );
});

async function read_(read: ReadSpec) {
  const kafka = directClient(`${read.runId}-reader`, read.bootstrap, read.connection);
  const stats: Partial<DrainStats> = await readBySpec(read, kafka);
  delete stats.offsets; // cross-checked here; a million numbers need not cross the pipe
  return stats as ApartStats;
}

function errorReply(err: unknown): ApartReply {
  if (err instanceof InfrastructureError) {
    const message = err.message.slice(err.host.length + 2);
    return { type: "error", name: err.name, message, host: err.host };
  }
  const e = err as { name?: string; message?: string };
  return { type: "error", name: e.name ?? "Error", message: e.message ?? String(err) };
}
