import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TailReader } from "./tail.js";

describe("TailReader", () => {
  it("never throws and stops within a few seconds when no broker answers", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-tail-"));
    const file = path.join(dir, "tail.jsonl");
    const t0 = Date.now();
    const tail = await TailReader.start({
      bootstrap: "127.0.0.1:1",
      runId: "r1",
      topic: "t",
      file,
      clock: () => 0,
      startWaitMs: 500,
    });
    expect(Date.now() - t0).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 1500));
    const t1 = Date.now();
    const stats = await tail.stop();
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(stats.records).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe("");
  }, 15_000);
});
