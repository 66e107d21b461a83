import { once } from "node:events";
import fs from "node:fs";
import { encodeDrained } from "../history/reader.js";
import type { Sink } from "./index.js";

/**
 * The final sink drain: every row of the run's sink, one compact line each (partition = input
 * partition, offset = row id), in the format of drain.jsonl. Written under a temporary name
 * and renamed once complete. Returns the number of rows, and of those without an identity
 * (producer and seq -1).
 */
export async function drainSink(
  sink: Sink,
  file: string,
): Promise<{ rows: number; unidentified: number }> {
  const tmp = `${file}.partial`;
  const out = fs.createWriteStream(tmp);
  let rows = 0;
  let unidentified = 0;
  try {
    for await (const batch of sink.rows()) {
      rows += batch.length;
      for (const r of batch) if (r.producer === -1 && r.seq === -1) unidentified += 1;
      if (!out.write(`${batch.map(encodeDrained).join("\n")}\n`)) await once(out, "drain");
    }
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  fs.renameSync(tmp, file);
  return { rows, unidentified };
}
