import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { InfrastructureError } from "../errors.js";
import {
  CACHE_DIR,
  KAFKA_VERSION,
  kafkaLibs,
  kafkaToolsLibs,
  TOXIPROXY_BIN,
  TOXIPROXY_VERSION,
} from "./paths.js";
import { onPath } from "./process.js";

const run = promisify(execFile);

/** A pom whose runtime dependencies are the given artifacts (groupId:artifactId:version). */
function pomOf(artifactId: string, artifacts: string[]): string {
  const deps = artifacts.map((a) => {
    const [groupId, id, version] = a.split(":");
    return `    <dependency><groupId>${groupId}</groupId><artifactId>${id}</artifactId><version>${version}</version></dependency>`;
  });
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-chaos</groupId><artifactId>${artifactId}</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps.join("\n")}
  </dependencies>
</project>
`;
}

const pom = (version: string) =>
  pomOf("kafka-stack", [
    `org.apache.kafka:kafka_2.13:${version}`,
    "org.slf4j:slf4j-api:2.0.17",
    "org.apache.logging.log4j:log4j-slf4j2-impl:2.24.3",
    "org.apache.logging.log4j:log4j-core:2.24.3",
  ]);

/**
 * Kafka's command-line tools (ProducerPerformance, the bench's ceiling) with the client they
 * run on; slf4j-nop keeps the client's logging off the tool's output.
 */
const toolsPom = (version: string) =>
  pomOf("kafka-tools", [
    `org.apache.kafka:kafka-tools:${version}`,
    "org.slf4j:slf4j-api:2.0.17",
    "org.slf4j:slf4j-nop:2.0.17",
  ]);

export function requireTool(tool: string, what: string): void {
  if (!onPath(tool)) {
    throw new InfrastructureError(
      tool,
      `not found on PATH: install ${what} to run the local stack`,
    );
  }
}

/** Kafka's broker jars and their runtime dependencies, fetched once with Maven into the cache. */
export async function ensureKafka(
  log: (line: string) => void,
  version = KAFKA_VERSION,
): Promise<string> {
  requireTool("java", "a Java 17+ JDK");
  const libs = kafkaLibs(version);
  if (hasJar(libs, `kafka_2.13-${version}.jar`)) return libs;
  log(`fetching Apache Kafka ${version} jars with Maven into ${libs} (once)`);
  await mavenFetch(pom(version), libs, `Kafka ${version}`);
  return libs;
}

/** Kafka's tools jar (ProducerPerformance …) and its runtime dependencies, fetched once. */
export async function ensureKafkaTools(
  log: (line: string) => void,
  version = KAFKA_VERSION,
): Promise<string> {
  requireTool("java", "a Java 17+ JDK");
  const libs = kafkaToolsLibs(version);
  if (hasJar(libs, `kafka-tools-${version}.jar`)) return libs;
  log(`fetching Apache Kafka tools ${version} with Maven into ${libs} (once)`);
  await mavenFetch(toolsPom(version), libs, `Kafka tools ${version}`);
  return libs;
}

/** The pom's runtime dependencies copied into `libs` (through libs.tmp, so never half there). */
async function mavenFetch(pom: string, libs: string, what: string): Promise<void> {
  requireTool("mvn", "Apache Maven");
  const dir = path.dirname(libs);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "pom.xml"), pom);
  const tmp = `${libs}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await run(
      "mvn",
      [
        "-q",
        "-B",
        "dependency:copy-dependencies",
        `-DoutputDirectory=${tmp}`,
        "-DincludeScope=runtime",
      ],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (err) {
    throw new InfrastructureError("mvn", `could not fetch ${what}: ${lastLines(err)}`);
  }
  fs.rmSync(libs, { recursive: true, force: true });
  fs.renameSync(tmp, libs);
}

/** The Toxiproxy server, built once with `go install` into the cache. */
export async function ensureToxiproxy(log: (line: string) => void): Promise<string> {
  if (fs.existsSync(TOXIPROXY_BIN)) return TOXIPROXY_BIN;
  requireTool("go", "Go 1.22+");
  log(`building Toxiproxy ${TOXIPROXY_VERSION} with go install into ${TOXIPROXY_BIN} (once)`);
  const gobin = path.join(CACHE_DIR, "gobin");
  try {
    await run(
      "go",
      ["install", `github.com/Shopify/toxiproxy/v2/cmd/server@v${TOXIPROXY_VERSION}`],
      {
        env: { ...process.env, GOBIN: gobin, CGO_ENABLED: "0" },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  } catch (err) {
    throw new InfrastructureError(
      "go",
      `go install of Toxiproxy ${TOXIPROXY_VERSION} failed: ${lastLines(err)}`,
    );
  }
  fs.mkdirSync(path.dirname(TOXIPROXY_BIN), { recursive: true });
  fs.renameSync(path.join(gobin, "server"), TOXIPROXY_BIN);
  return TOXIPROXY_BIN;
}

function hasJar(libs: string, jar: string): boolean {
  return fs.existsSync(libs) && fs.readdirSync(libs).includes(jar);
}

function lastLines(err: unknown): string {
  const e = err as { stderr?: string; stdout?: string; message?: string };
  const text = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim() || (e.message ?? String(err));
  return text.split("\n").slice(-5).join(" | ");
}
