import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { InfrastructureError } from "../errors.js";
import { requireTool } from "./install.js";

const run = promisify(execFile);

/** Throwaway TLS material and a SCRAM user for the local stack's secure listeners. */
export interface SecureMaterial {
  dir: string;
  caFile: string;
  brokerKeystore: string;
  clientCert: string;
  clientKey: string;
  username: string;
  password: string;
}

/** A CA, a broker certificate for 127.0.0.1/localhost, a client certificate; valid two days. */
export async function makeSecureMaterial(dir: string): Promise<SecureMaterial> {
  requireTool("openssl", "OpenSSL (for --secure)");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const at = (f: string) => path.join(dir, f);
  fs.writeFileSync(at("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=kafka-chaos throwaway CA",
  ]);
  for (const who of ["broker", "client"]) {
    await openssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      at(`${who}.key`),
      "-out",
      at(`${who}.csr`),
      "-subj",
      `/CN=kafka-chaos ${who}`,
    ]);
    await openssl([
      "x509",
      "-req",
      "-in",
      at(`${who}.csr`),
      "-CA",
      at("ca.pem"),
      "-CAkey",
      at("ca.key"),
      "-CAcreateserial",
      "-out",
      at(`${who}.crt`),
      "-days",
      "2",
      "-extfile",
      at("san.ext"),
    ]);
  }
  // Kafka's PEM keystore: the (PKCS#8, unencrypted) key followed by its certificate.
  fs.writeFileSync(
    at("broker-keystore.pem"),
    fs.readFileSync(at("broker.key"), "utf8") + fs.readFileSync(at("broker.crt"), "utf8"),
    { mode: 0o600 },
  );
  return {
    dir,
    caFile: at("ca.pem"),
    brokerKeystore: at("broker-keystore.pem"),
    clientCert: at("client.crt"),
    clientKey: at("client.key"),
    username: "kafka-chaos",
    password: randomBytes(12).toString("base64url"),
  };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (err) {
    throw new InfrastructureError(
      "openssl",
      `generating test certificates failed: ${(err as { stderr?: string }).stderr ?? String(err)}`,
    );
  }
}
