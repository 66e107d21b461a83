import { once } from "node:events";
import fs from "node:fs";
import { encodeDrained } from "../../history/reader.js";
import type { Sink } from "./index.js";

/**
 * The final sink drain: every row of the run's sink, one compact line each (partition = input
 * partition, offset = row id), in the format of drain.jsonl. Written under a temporary name
 * and renamed once complete. Returns the number of rows.
 */
export async function drainSink(sink: Sink, file: string): Promise<number> {
  const tmp = `${file}.partial`;
  const out = fs.createWriteStream(tmp);
  let rows = 0;
  try {
    for await (const batch of sink.rows()) {
      rows += batch.length;
      if (!out.write(`${batch.map(encodeDrained).join("\n")}\n`)) await once(out, "drain");
    }
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  fs.renameSync(tmp, file);
  return rows;
}
