import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { InfrastructureError } from "../errors.js";
import { CACHE_DIR, KAFKA_LIBS, KAFKA_VERSION, TOXIPROXY_BIN, TOXIPROXY_VERSION } from "./paths.js";
import { onPath } from "./process.js";

const run = promisify(execFile);

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-chaos</groupId><artifactId>kafka-stack</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
`;

export function requireTool(tool: string, what: string): void {
  if (!onPath(tool)) {
    throw new InfrastructureError(
      tool,
      `not found on PATH: install ${what} to run the local stack`,
    );
  }
}

/** Kafka's broker jars and their runtime dependencies, fetched once with Maven into the cache. */
export async function ensureKafka(log: (line: string) => void): Promise<string> {
  requireTool("java", "a Java 17+ JDK");
  if (hasKafkaJar()) return KAFKA_LIBS;
  requireTool("mvn", "Apache Maven");
  log(`fetching Apache Kafka ${KAFKA_VERSION} jars with Maven into ${KAFKA_LIBS} (once)`);
  const dir = path.dirname(KAFKA_LIBS);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "pom.xml"), POM);
  const tmp = `${KAFKA_LIBS}.tmp`;
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
    throw new InfrastructureError(
      "mvn",
      `could not fetch Kafka ${KAFKA_VERSION}: ${lastLines(err)}`,
    );
  }
  fs.rmSync(KAFKA_LIBS, { recursive: true, force: true });
  fs.renameSync(tmp, KAFKA_LIBS);
  return KAFKA_LIBS;
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

function hasKafkaJar(): boolean {
  return (
    fs.existsSync(KAFKA_LIBS) &&
    fs.readdirSync(KAFKA_LIBS).some((f) => f === `kafka_2.13-${KAFKA_VERSION}.jar`)
  );
}

function lastLines(err: unknown): string {
  const e = err as { stderr?: string; stdout?: string; message?: string };
  const text = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim() || (e.message ?? String(err));
  return text.split("\n").slice(-5).join(" | ");
}
