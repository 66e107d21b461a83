import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultEvent, HistoryEvent, SendInvoked, WorkerEvent } from "../src/history/events.js";
import type { Report } from "../src/report/report.js";
import { bootstrap, runCli, toxiproxyUrl } from "./helpers.js";

/**
 * The HTML reports of real runs, opened in a real browser: the Debian `chromium` package
 * (`apt-get install chromium`; .ci/run installs it), driven by playwright-core, which
 * downloads no browser of its own. Screenshots go to .cache/html-report/.
 */
const SHOTS = path.resolve(".cache/html-report");
const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

function chromiumPath(): string {
  const found = [process.env.KAFKA_CHAOS_CHROMIUM, ...CHROMIUM_CANDIDATES].find(
    (p) => p !== undefined && p !== "" && fs.existsSync(p),
  );
  if (!found) {
    throw new Error(
      "no Chromium found: install it with `apt-get install -y chromium` or set KAFKA_CHAOS_CHROMIUM",
    );
  }
  return found;
}

const target = () => ["--bootstrap", bootstrap(), "--toxiproxy", toxiproxyUrl()];

async function run(
  profile: string,
  extra: string[],
): Promise<{ dir: string; code: number | null; report: Report }> {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-html-")), "run");
  const r = await runCli([
    "run",
    "--profile",
    profile,
    ...target(),
    "--out",
    dir,
    "--quiet",
    ...extra,
  ]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`run exited ${r.code}: ${r.stderr}`);
  const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as Report;
  return { dir, code: r.code, report };
}

function history(dir: string): HistoryEvent[] {
  return fs
    .readFileSync(path.join(dir, "history.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as HistoryEvent);
}

let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
});

afterAll(async () => {
  await browser?.close();
});

/**
 * Opens a report as a user would (file://), fails on any console error, page error or
 * request that leaves the file system, and waits for the charts.
 */
async function open(file: string, shot: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    if (!r.url().startsWith("file:")) problems.push(`network request: ${r.url()}`);
  });
  await page.goto(`file://${file}`);
  await page.waitForSelector("body[data-charts-ready=true]", { timeout: 10_000 });
  await page.screenshot({ path: path.join(SHOTS, shot), fullPage: true });
  return { page, problems };
}

/** The header shows what report.json says, and the exit code the run ended with. */
async function expectHeader(page: Page, report: Report, code: number | null): Promise<void> {
  const verdict = page.getByTestId("verdict");
  expect(await verdict.getAttribute("data-verdict")).toBe(report.verdict);
  expect(await verdict.textContent()).toContain(report.verdict);
  expect(await page.getByTestId("exit-code").textContent()).toBe(String(code));
  expect(await page.getByTestId("claims").textContent()).toBe(report.claims);
  expect(await page.getByTestId("seed").textContent()).toBe(String(report.seed));
  for (const key of ["attempted", "acked", "failed", "unknown"] as const) {
    expect(await page.getByTestId(key).textContent()).toBe(String(report.messages[key]));
  }
  const hopRows = page.locator("#hops tbody tr");
  expect(await hopRows.count()).toBe(report.hops.length);
  for (const [i, h] of report.hops.entries()) {
    const cells = await hopRows.nth(i).locator("td").allTextContents();
    expect(cells.slice(0, 4)).toEqual([h.name, String(h.in), String(h.out), String(h.lost)]);
  }
}

/** Where the first timeline's x scale puts a time, read back from its pixels (seconds). */
async function timeAtPixel(page: Page, left: number): Promise<number> {
  return (await page.evaluate(`window.kcCharts[0].posToVal(${left}, "x")`)) as number;
}

/** Every fault window of the history is a band (or a line, for an instant) at its times. */
async function expectFaultMarks(page: Page, events: HistoryEvent[]): Promise<number> {
  const faults = events.filter((e): e is FaultEvent => e.type === "fault");
  const starts = faults.filter((f) => f.phase === "start");
  for (const start of starts) {
    const stop = faults.find(
      (f) => f.phase === "stop" && f.fault === start.fault && f.target === start.target,
    );
    const instant = stop !== undefined && stop.time === start.time;
    const mark = page.locator(
      `#chart-sends .${instant ? "fault-instant" : "fault-band"}[data-fault="${start.fault}"]`,
    );
    expect(await mark.count()).toBe(1);
    expect(await mark.getAttribute("data-start-ms")).toBe(String(start.time));
    expect(await mark.getAttribute("data-end-ms")).toBe(stop ? String(stop.time) : "");
    expect(await mark.getAttribute("data-target")).toBe(start.target);
    expect(await mark.textContent()).toContain(start.fault);
    // Drawn where the time axis says, not merely carrying the right attributes.
    const left = Number.parseFloat(
      (await mark.getAttribute("style"))!.match(/left:\s*([\d.]+)px/)![1]!,
    );
    expect(Math.abs((await timeAtPixel(page, left)) - start.time / 1000)).toBeLessThan(0.05);
    if (stop && !instant) {
      const box = (await mark.boundingBox())!;
      const right = left + box.width;
      expect(Math.abs((await timeAtPixel(page, right)) - stop.time / 1000)).toBeLessThan(0.05);
    }
  }
  return starts.length;
}

describe("HTML report in a real browser", () => {
  it("a clean run under dropped acks: header, counts and fault bands as in report.json and the history", async () => {
    const { dir, code, report } = await run("at-least-once", [
      "--fault",
      "drop-acks",
      "--messages",
      "3000",
    ]);
    expect(code).toBe(0);
    const { page, problems } = await open(path.join(dir, "report.html"), "clean.png");
    await expectHeader(page, report, code);
    const events = history(dir);
    expect(await expectFaultMarks(page, events)).toBeGreaterThan(0);
    expect(await page.locator("#chart-latency canvas").count()).toBe(1);
    expect(await page.locator("#chart-processor canvas").count()).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
    // `report` rebuilds the same page from the files alone.
    const again = path.join(dir, "again.html");
    const r = await runCli(["report", dir, "--html", again]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(again, "utf8")).toBe(
      fs.readFileSync(path.join(dir, "report.html"), "utf8"),
    );
  });

  it("a violation (at-least-once claimed, commit before processing, consumer crash): its example ids and the crash on the page", async () => {
    const { dir, code, report } = await run("scripts/accuracy/at-least-once-commit-before.yaml", [
      "--messages",
      "3000",
      "--fault",
      "crash-consumer:point=after-commit-before-process,after=1000",
    ]);
    expect(code).toBe(1);
    expect(report.verdict).toBe("violation");
    const { page, problems } = await open(path.join(dir, "report.html"), "violation.png");
    await expectHeader(page, report, code);
    const events = history(dir);
    expect(await expectFaultMarks(page, events)).toBe(1);
    const crashes = events.filter(
      (e): e is WorkerEvent => e.type === "worker" && e.phase === "crash",
    );
    expect(crashes).toHaveLength(1);
    const marker = page.locator(`#chart-sends .crash-marker[data-worker="${crashes[0]!.worker}"]`);
    expect(await marker.getAttribute("data-time-ms")).toBe(String(crashes[0]!.time));
    const violations = await page.locator("#violations").textContent();
    const ids = report.violations.flatMap((v) => v.examples);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      expect(violations).toContain(id);
      const row = page.locator(`#anomalies tr:has([data-id="${id}"])`);
      const cells = await row.locator("td").allTextContents();
      // sent: the invoke of the batch that carried it, as in the history
      const [producer, seq] = id.split(":").map(Number);
      const invoke = events.find(
        (e): e is SendInvoked =>
          e.type === "invoke" && e.producer === producer && e.from <= seq! && seq! <= e.to,
      )!;
      expect(cells[2]).toBe((invoke.time / 1000).toFixed(1));
      expect(await row.getAttribute("class")).toBe("bad");
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it("a compare: bar charts per profile and links to each run's report", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-html-")), "cmp");
    const json = path.join(out, "..", "compare.json");
    const r = await runCli([
      "compare",
      "--profiles",
      "at-least-once,idempotent-producer",
      ...target(),
      "--fault",
      "drop-acks",
      "--messages",
      "2000",
      "--out",
      out,
      "--json",
      json,
    ]);
    expect([0, 1]).toContain(r.code);
    const rows = JSON.parse(fs.readFileSync(json, "utf8")) as { report: Report }[];
    const { page, problems } = await open(path.join(out, "report.html"), "compare.png");
    for (const id of ["chart-throughput", "chart-latency", "chart-anomalies"]) {
      expect(await page.locator(`#${id} canvas`).count()).toBe(1);
    }
    const tableRows = page.locator("#runs tbody tr");
    expect(await tableRows.count()).toBe(rows.length);
    for (const [i, row] of rows.entries()) {
      const tr = tableRows.nth(i);
      expect(await tr.locator("td").first().textContent()).toBe(row.report.profile);
      expect(await tr.getByTestId("verdict").getAttribute("data-verdict")).toBe(row.report.verdict);
      const href = await tr.locator("a").getAttribute("href");
      expect(fs.existsSync(path.join(out, href!))).toBe(true);
    }
    // The link opens the run's own report.
    await tableRows.nth(0).locator("a").click();
    await page.waitForSelector("body[data-charts-ready=true]", { timeout: 10_000 });
    expect(await page.getByTestId("verdict").getAttribute("data-verdict")).toBe(
      rows[0]!.report.verdict,
    );
    expect(problems).toEqual([]);
    await page.close();
  });
});
