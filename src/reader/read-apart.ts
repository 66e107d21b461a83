/**
 * The reader of record in a child process. librdkafka hands every record to JavaScript on the
 * main thread, so two drains in one process take as long as one after the other; in two
 * processes they take the time of the longer one on a machine with a core to spare.
 */
import { fork } from "node:child_process";
import { InfrastructureError } from "../errors.js";
import type { DrainStats } from "./drain.js";
import type { ReadSpec } from "./read.js";

/** The drain's figures, without the offsets of every record (the child has cross-checked them). */
export type ApartStats = Omit<DrainStats, "offsets">;

/** Child → parent: the outcome of its read. */
export type ApartReply =
  | { type: "done"; stats: ApartStats }
  | { type: "error"; name: string; message: string; host?: string };

const ENTRY = new URL("./read-child.js", import.meta.url);

/** readOfRecord in a child process; its errors come back with their class (exit 3 stays 3). */
export function readOfRecordApart(read: ReadSpec): Promise<ApartStats> {
  return new Promise((resolve, reject) => {
    const child = fork(ENTRY, [], { serialization: "advanced", stdio: "inherit" });
    let reply: ApartReply | undefined;
    child.on("message", (m: ApartReply) => (reply = m));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (reply?.type === "done") return resolve(reply.stats);
      if (reply?.type === "error") return reject(rebuilt(reply));
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      reject(new InfrastructureError(read.bootstrap, `the reader of ${read.topic} ended (${how})`));
    });
    child.send(read);
  });
}

function rebuilt(reply: Extract<ApartReply, { type: "error" }>): Error {
  if (reply.host !== undefined) return new InfrastructureError(reply.host, reply.message);
  const err = new Error(reply.message);
  err.name = reply.name;
  return err;
}
