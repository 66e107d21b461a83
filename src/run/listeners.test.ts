import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { planSchedule } from "../faults/schedule.js";
import { parseFault } from "../faults/spec.js";
import { profileSchema, type ProfileInput } from "../profiles/schema.js";
import { proxiedRoles, routedListeners } from "./listeners.js";

const brokers = [{ nodeId: 1, host: "kafka-1", port: 9092 }];
const listener = (port: number) => [
  { broker: 1, proxy: `tp:${port}`, upstream: `kafka-1:${port}` },
];

function routing(profile: ProfileInput, ...faults: string[]) {
  const p = profileSchema.parse(profile);
  const schedule = planSchedule(faults.map(parseFault), { seed: 1, messages: 1000 });
  return { p, routing: routedListeners(p, schedule, brokers) };
}

describe("routed listeners", () => {
  it("kafkajs needs none: every role gets ordinary proxies", () => {
    const { p, routing: r } = routing({ name: "t" }, "drop-acks");
    expect([...r.keys()]).toEqual([]);
    expect(proxiedRoles(p, r)).toEqual(["producer", "processor"]);
  });

  it("librdkafka without a network fault on a role connects it directly: no proxies for it", () => {
    const { p, routing: r } = routing({ name: "t", client: "librdkafka" }, "crash-consumer");
    expect(r).toEqual(
      new Map([
        ["processor", undefined],
        ["producer", undefined],
      ]),
    );
    expect(proxiedRoles(p, r)).toEqual([]);
  });

  it("librdkafka under a network fault goes through the role's listeners", () => {
    const { p, routing: r } = routing(
      { name: "t", client: "librdkafka", listeners: { producer: listener(9101) } },
      "drop-acks",
    );
    expect(r.get("producer")).toEqual(listener(9101));
    expect(proxiedRoles(p, r)).toEqual(["producer"]);
  });

  it("refuses a network fault on a librdkafka role without listeners, naming the field", () => {
    expect(() =>
      routing({ name: "t", client: "librdkafka" }, "cut-connection:role=processor"),
    ).toThrow(UsageError);
    expect(() =>
      routing({ name: "t", client: "librdkafka" }, "cut-connection:role=processor"),
    ).toThrow(/listeners\.processor/);
  });
});
