import fs from "node:fs";
import { HistoryWriter } from "../history/writer.js";
import { errorText } from "../errors.js";
import { EXIT_RESTART, Processor, type WorkerConfig, type WorkerMessage } from "./processor.js";

/** Entry point of a processor worker process: `node worker-main.js <config.json>`. */
async function main(): Promise<void> {
  const config = JSON.parse(fs.readFileSync(process.argv[2] ?? "", "utf8")) as WorkerConfig;
  const send = (m: WorkerMessage) => process.send?.(m);
  const history = await HistoryWriter.open(config.historyFile);
  const processor = new Processor(config, history, send);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await processor.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("disconnect", () => void stop());
  await processor.start();
}

main().catch((err: unknown) => {
  console.error("worker start:", err);
  process.send?.({ type: "fatal", error: errorText(err) } satisfies WorkerMessage);
  process.exit(EXIT_RESTART);
});
