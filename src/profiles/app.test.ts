import { describe, expect, it } from "vitest";
import { claimWarnings } from "./claim-warnings.js";
import { faultProblem, profileSchema } from "./schema.js";
import { parseFault } from "../faults/spec.js";

const app = { command: ["java", "-jar", "app.jar"] };

function problems(input: object): string[] {
  const r = profileSchema.safeParse({ name: "p", ...input });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("profile section app", () => {
  it("has defaults a newcomer can rely on", () => {
    const p = profileSchema.parse({ name: "p", app });
    expect(p.app).toMatchObject({
      instances: 1,
      ready: { delay: 2000 },
      readyTimeout: 60_000,
      catchUpTimeout: 120_000,
      identity: "headers",
      env: {},
    });
  });

  it("takes each readiness signal and identity mode", () => {
    const parse = (extra: object) =>
      profileSchema.parse({ name: "p", app: { ...app, ...extra } }).app;
    expect(parse({ ready: { log: "RUNNING" } })?.ready).toEqual({ log: "RUNNING" });
    expect(parse({ ready: { port: 8080 } })?.ready).toEqual({ port: 8080 });
    expect(parse({ ready: { delay: "5s" } })?.ready).toEqual({ delay: 5000 });
    expect(parse({ identity: "key" })?.identity).toBe("key");
    expect(parse({ identity: { value: "meta.id" } })?.identity).toEqual({ value: "meta.id" });
    expect(parse({ env: { A: 1, B: true } })?.env).toEqual({ A: "1", B: "true" });
  });

  it("names the field of each mistake", () => {
    expect(problems({ app: { command: [] } })).toEqual([
      "app.command: expected the program and its arguments",
    ]);
    expect(problems({ app: { ...app, instances: 0 } })[0]).toMatch(/^app\.instances: /);
    expect(problems({ app: { ...app, sink: { query: "SELECT id FROM {table}" } } })).toEqual([
      "app.sink: only with sink.type postgres",
    ]);
    expect(problems({ app, sink: { type: "postgres" } })[0]).toMatch(/^app\.sink: required/);
    expect(problems({ app, sink: { type: "sqlite" } })[0]).toMatch(/^sink\.type: an app writes/);
    expect(problems({ app, processor: { enabled: false } })[0]).toMatch(/^processor\.enabled/);
    expect(
      problems({ app: { ...app, listeners: [{ broker: 1, proxy: "x", upstream: "h:1" }] } })[0],
    ).toMatch(/^app\.listeners\.0\.proxy: expected host:port/);
  });

  it("app faults need the app, and the instance must exist", () => {
    const settings = profileSchema.parse({ name: "p", app: { ...app, instances: 2 } });
    const check = (spec: string, p = settings) =>
      faultProblem(parseFault(spec), p.processor, p.sink, p.app);
    expect(check("crash-app:instance=1")).toBeUndefined();
    expect(check("pause-app:for=5s")).toBeUndefined();
    expect(check("stop-app:instance=2")).toEqual({
      key: "instance",
      problem: "no instance 2: app.instances is 2 (0-1)",
    });
    const noApp = profileSchema.parse({ name: "p" });
    expect(check("crash-app", noApp)?.problem).toMatch(/the profile has no app section/);
    expect(check("cut-connection:role=app", noApp)?.key).toBe("role");
    expect(check("cut-connection:role=processor")?.problem).toMatch(/use role=app/);
    expect(check("cut-connection:role=app")).toBeUndefined();
  });

  it("the claim's warnings do not read the built-in processor's settings for an app", () => {
    const p = profileSchema.parse({
      name: "p",
      claims: "exactly-once",
      app,
      producer: { idempotent: true },
    });
    expect(claimWarnings(p)).toEqual([]);
  });
});
