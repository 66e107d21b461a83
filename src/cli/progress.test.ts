import { describe, expect, it } from "vitest";
import { progressText, progressView } from "./progress.js";

const counts = { sent: 1200, acked: 1100, failed: 3, unknown: 97 };

function fakeStream(isTTY: boolean) {
  const lines: string[] = [];
  return { lines, stream: { isTTY, write: (s: string) => lines.push(s) > 0 } };
}

describe("progress on stderr", () => {
  it("without a TTY: one plain line every 5 s with the counts and active faults", () => {
    const { lines, stream } = fakeStream(false);
    let now = 1000;
    const view = progressView({ stream, quiet: false, title: "p", now: () => now });
    for (; now <= 16_000; now += 200) view.update(counts, ["drop-acks#1"], 900);
    expect(lines).toEqual([
      "progress 5s: sent 1200  acked 1100  failed 3  unknown 97  processed 900  faults: drop-acks#1\n",
      "progress 10s: sent 1200  acked 1100  failed 3  unknown 97  processed 900  faults: drop-acks#1\n",
      "progress 15s: sent 1200  acked 1100  failed 3  unknown 97  processed 900  faults: drop-acks#1\n",
    ]);
    view.info("interrupted");
    expect(lines.at(-1)).toBe("interrupted\n");
  });

  it("--quiet: nothing", () => {
    const { lines, stream } = fakeStream(false);
    let now = 0;
    const view = progressView({ stream, quiet: true, title: "p", now: () => now });
    for (; now <= 60_000; now += 1000) view.update(counts, [], undefined);
    view.info("x");
    view.stop();
    expect(lines).toEqual([]);
  });

  it("no processor: no processed count; no fault: says so", () => {
    expect(progressText(counts, [])).toBe(
      "sent 1200  acked 1100  failed 3  unknown 97  faults: none active",
    );
  });
});
