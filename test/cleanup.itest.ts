/**
 * `cleanup` by the runs' leases in Toxiproxy, and of the PostgreSQL sink tables: a run whose
 * lease says it lives is never touched, however old its names; one whose lease says it died
 * loses its proxies at once, however young; tables go by age, as topics do.
 */
import os from "node:os";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { bootstrap, pgUrl, proxyNames, runCli, toxiproxyUrl } from "./helpers.js";

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
const LIVE = `kc-20200101-000000-l1ve-`; // years old, its process alive
const DEAD = `kc-${stamp(new Date())}-d3ad-`; // started now, its process gone
const OLD = `kc_20200101_000000_0ld0`; // tables of a run years old, no lease
const table = (run: string) => run.replace(/-/g, "_");

async function toxiproxy(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${toxiproxyUrl()}${path}`, {
    method,
    ...(body
      ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } }
      : {}),
  });
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: ${res.status}`);
}

const lease = (run: string, pid: number) =>
  toxiproxy("POST", "/proxies", {
    name: `${run}lease`,
    listen: "127.0.0.1:0",
    upstream: JSON.stringify({ host: os.hostname(), pid, beat: Date.now() }),
    enabled: false,
  });
const proxy = (name: string) =>
  toxiproxy("POST", "/proxies", {
    name,
    listen: "127.0.0.1:0",
    upstream: "127.0.0.1:1",
    enabled: false,
  });

async function sql(text: string): Promise<string[]> {
  const client = new pg.Client(pgUrl());
  await client.connect();
  try {
    return (await client.query<{ t: string }>(text)).rows.map((r) => r.t);
  } finally {
    await client.end();
  }
}
const tables = () =>
  sql(
    "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kc%'",
  );

afterAll(async () => {
  for (const name of [`${LIVE}lease`, `${LIVE}producer-b1`, `${DEAD}lease`, `${DEAD}producer-b1`])
    await toxiproxy("DELETE", `/proxies/${name}`);
  await sql(`DROP TABLE IF EXISTS ${table(LIVE)}sink`);
});

it("keeps a live run's names however old, takes a dead run's proxies at once and old tables", async () => {
  await lease(LIVE, process.pid);
  await proxy(`${LIVE}producer-b1`);
  await lease(DEAD, 2 ** 22 + 12345); // above the kernel's pid range: no such process
  await proxy(`${DEAD}producer-b1`);
  await sql(`CREATE TABLE IF NOT EXISTS ${table(LIVE)}sink (x int)`);
  await sql(`CREATE TABLE IF NOT EXISTS ${OLD}_sink (x int)`);
  await sql(`CREATE TABLE IF NOT EXISTS ${OLD}_offsets (x int)`);
  const args = ["cleanup", "--bootstrap", bootstrap(), "--toxiproxy", toxiproxyUrl()];

  const dry = await runCli([...args, "--dry-run", "--pg-url", pgUrl()]);
  expect(dry.code, dry.stderr).toBe(0);
  expect(dry.stdout).toContain(`would remove table ${OLD}_sink`);
  expect(dry.stdout).toContain(`would remove proxy ${DEAD}producer-b1`);
  expect(await tables()).toContain(`${OLD}_sink`);

  const r = await runCli([...args, "--pg-url", pgUrl()]);
  expect(r.code, r.stderr).toBe(0);
  const proxies = await proxyNames();
  expect(proxies).toContain(`${LIVE}lease`);
  expect(proxies).toContain(`${LIVE}producer-b1`);
  expect(proxies).not.toContain(`${DEAD}lease`);
  expect(proxies).not.toContain(`${DEAD}producer-b1`);
  const left = await tables();
  expect(left).toContain(`${table(LIVE)}sink`);
  expect(left).not.toContain(`${OLD}_sink`);
  expect(left).not.toContain(`${OLD}_offsets`);
  expect(r.stdout).not.toMatch(/l1ve/);
});
