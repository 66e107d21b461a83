import { describe, expect, it } from "vitest";
import { identityText, inputKeyValue, outputIdentity, parseIdentityText } from "./identity.js";

describe("identity through the user's app", () => {
  it("reads back what it writes, in every mode", () => {
    const payload = Buffer.from("xyz");
    for (const mode of ["key", { value: "id" }, { value: "meta.kc.id" }] as const) {
      const { key, value } = inputKeyValue(mode, 3, 41, "k7", payload);
      const read = outputIdentity(mode, "run-1")({ key: key ? Buffer.from(key) : null, value });
      expect(read).toEqual({ runId: "run-1", producer: 3, seq: 41 });
    }
  });

  it("headers mode leaves key and value alone and reads the kc-* headers", () => {
    const payload = Buffer.from("xyz");
    expect(inputKeyValue("headers", 3, 41, "k7", payload)).toEqual({ key: "k7", value: payload });
    const read = outputIdentity(
      "headers",
      "run-1",
    )({
      headers: { "kc-run": "run-1", "kc-producer": "3", "kc-seq": "41" },
    });
    expect(read).toEqual({ runId: "run-1", producer: 3, seq: 41 });
  });

  it("a JSON value keeps the payload beside the identity", () => {
    const { value } = inputKeyValue({ value: "a.b" }, 0, 5, null, Buffer.from("pp"));
    expect(JSON.parse(value.toString())).toEqual({ payload: "pp", a: { b: "0:5" } });
  });

  it("what carries no identity reads as -1, never as a message", () => {
    const read = (mode: Parameters<typeof outputIdentity>[0], m: object) =>
      outputIdentity(mode, "r")(m as never);
    const none = { runId: "r", producer: -1, seq: -1 };
    expect(read("key", { key: Buffer.from("hello") })).toEqual(none);
    expect(read("key", { key: null })).toEqual(none);
    expect(read({ value: "id" }, { value: Buffer.from("not json") })).toEqual(none);
    expect(read({ value: "id" }, { value: Buffer.from('{"id": 7}') })).toEqual(none);
    expect(read({ value: "id" }, { value: Buffer.from('{"other": "1:2"}') })).toEqual(none);
    expect(read("headers", {}).producer).toBe(-1);
  });

  it("parses only whole producer:seq pairs", () => {
    expect(identityText(2, 9)).toBe("2:9");
    expect(parseIdentityText(" 2:9 ")).toEqual({ producer: 2, seq: 9 });
    for (const bad of ["", "2:", ":9", "2:9:1", "-1:3", "a:b", "2.5:1"]) {
      expect(parseIdentityText(bad)).toEqual({ producer: -1, seq: -1 });
    }
  });
});
