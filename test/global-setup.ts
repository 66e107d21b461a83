import type { TestProject } from "vitest/node";
import { down, isReady, status, up } from "../src/stack/stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    bootstrap: string;
    toxiproxyUrl: string;
  }
}

/** Integration tests run against the real local stack: reuse it if running, else start it and stop it after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const current = await status();
  const reuse = isReady(current) && current.info !== undefined;
  const info = reuse && current.info ? current.info : await up({ brokers: 1, log: console.log });
  console.log(
    `integration tests: Kafka ${info.bootstrap}, Toxiproxy ${info.toxiproxy}${reuse ? " (already running)" : ""}`,
  );
  project.provide("bootstrap", info.bootstrap);
  project.provide("toxiproxyUrl", info.toxiproxy);
  return async () => {
    if (!reuse) await down(console.log);
  };
}
