import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { connectionFrom, describeConnection } from "./connection.js";

describe("connection from flags and environment", () => {
  it("is plain by default, and env booleans switch TLS on only when they say so", () => {
    expect(connectionFrom({}, {})).toEqual({});
    expect(connectionFrom({}, { KAFKA_CHAOS_SSL: "0" })).toEqual({});
    expect(connectionFrom({}, { KAFKA_CHAOS_SSL: "false" })).toEqual({});
    expect(connectionFrom({}, { KAFKA_CHAOS_SSL: "true" }).ssl).toEqual({
      rejectUnauthorized: true,
    });
    expect(connectionFrom({ ssl: true }, { KAFKA_CHAOS_SSL_INSECURE: "1" }).ssl).toEqual({
      rejectUnauthorized: false,
    });
  });

  it("takes the SASL password only from the environment and never describes it", () => {
    const env = { KAFKA_CHAOS_SASL_PASSWORD: "s3cret-pw" };
    const c = connectionFrom({ sasl: "SCRAM-SHA-512", saslUsername: "u" }, env);
    expect(c.sasl).toEqual({ mechanism: "scram-sha-512", username: "u", password: "s3cret-pw" });
    expect(JSON.stringify(describeConnection(c))).not.toContain("s3cret-pw");
    expect(() => connectionFrom({ sasl: "scram-sha-512", saslUsername: "u" }, {})).toThrow(
      /KAFKA_CHAOS_SASL_PASSWORD/,
    );
  });

  it("rejects unknown mechanisms, a user-less SASL, half a client certificate, unreadable files", () => {
    const env = { KAFKA_CHAOS_SASL_PASSWORD: "p" };
    expect(() => connectionFrom({ sasl: "kerberos", saslUsername: "u" }, env)).toThrow(UsageError);
    expect(() => connectionFrom({ sasl: "plain" }, env)).toThrow(/--sasl-username/);
    expect(() => connectionFrom({ sslCert: "/nonexistent.pem" }, {})).toThrow(/--ssl-key/);
    expect(() => connectionFrom({ sslCa: "/nonexistent/ca.pem" }, {})).toThrow(
      /--ssl-ca \/nonexistent\/ca\.pem: cannot read \(ENOENT\)/,
    );
  });
});
