/**
 * A run's input topic deleted and made again under the same name mid-run: its offsets restart
 * and the drain would read another topic's life. The run must end with exit 3 naming the topic,
 * never with a verdict.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { bootstrap, directClient, spawnCli, toxiproxyUrl, uniqueName } from "./helpers.js";

describe("a topic made again mid-run", () => {
  it("ends the run with exit 3 naming the topic", async () => {
    const prefix = uniqueName("kc-recreate");
    const input = `${prefix}-input`;
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kc-recreate-"));
    const run = spawnCli([
      "run",
      "--profile",
      "at-least-once",
      "--fault",
      "none",
      "--messages",
      "16000",
      "--topic-prefix",
      prefix,
      "--bootstrap",
      bootstrap(),
      "--toxiproxy",
      toxiproxyUrl(),
      "--out",
      out,
      "--quiet",
    ]);
    const admin = directClient().admin();
    await admin.connect();
    try {
      // The profile paces 4000 msg/s: the topic is made again while the producer still sends.
      const deadline = Date.now() + 30_000;
      while (!(await admin.listTopics()).includes(input) && Date.now() < deadline) await sleep(100);
      await sleep(1500);
      await admin.deleteTopics({ topics: [input], timeout: 10_000 });
      while ((await admin.listTopics()).includes(input)) await sleep(100);
      await admin.createTopics({
        topics: [{ topic: input, numPartitions: 3 }],
        waitForLeaders: true,
      });
      const code = await run.exitWithin(150_000);
      expect(code, run.stderr()).toBe(3);
      expect(run.stderr()).toContain(`topic ${input} was deleted and made again during the run`);
      expect(run.stdout()).not.toMatch(/verdict/i);
    } finally {
      await admin.deleteTopics({ topics: [input], timeout: 10_000 }).catch(() => {});
      await admin.disconnect();
    }
  }, 200_000);
});
