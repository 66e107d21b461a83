import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { planSchedule } from "../faults/schedule.js";
import { parseFault } from "../faults/spec.js";
import { profileSchema } from "../profiles/schema.js";
import { brokerAccess } from "./brokers.js";

/** A cluster the tool did not start. */
const BROKERS = [
  { nodeId: 1, host: "kafka-a.internal", port: 9092 },
  { nodeId: 2, host: "kafka-b.internal", port: 9092 },
];

function access(faults: string[], brokers?: object, env: NodeJS.ProcessEnv = {}) {
  const profile = profileSchema.parse({ name: "p", ...(brokers ? { brokers } : {}) });
  const schedule = planSchedule(faults.map(parseFault), { seed: 1, messages: 1000 });
  return brokerAccess(profile, schedule, BROKERS, env);
}

describe("broker access on a cluster the tool did not start", () => {
  it("needs nothing without broker faults", () => {
    expect(access(["drop-acks", "crash-consumer"])).toEqual({ plan: [] });
  });

  it("refuses a broker fault without its two commands, naming both places to set them", () => {
    const error = (() => {
      try {
        access(["kill-broker"], { commands: { kill: "ssh {host} kill-kafka" } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(
      "missing: KAFKA_CHAOS_BROKER_START or brokers.commands.start",
    );
  });

  it("prints the exact commands of each fault for --dry-run; the environment wins", () => {
    const { plan, control } = access(
      ["pause-broker:target=broker-2,at=1s", "kill-broker:target=random,at=2s"],
      {
        commands: {
          pause: "ssh {host} pkill -STOP -f kafka.Kafka",
          resume: "ssh {host} pkill -CONT -f kafka.Kafka",
          kill: "never used",
          start: "ssh {host} systemctl start kafka",
        },
      },
      { KAFKA_CHAOS_BROKER_KILL: "ssh {host} systemctl kill -s KILL kafka # node {nodeId}" },
    );
    expect(control?.nodes()).toEqual([1, 2]);
    expect(plan).toEqual([
      "broker commands (sh -c):",
      "  pause-broker#1:",
      "    pause 2: ssh kafka-b.internal pkill -STOP -f kafka.Kafka",
      "    resume 2: ssh kafka-b.internal pkill -CONT -f kafka.Kafka",
      "  kill-broker#2 (random: the broker chosen at start):",
      "    kill 1: ssh kafka-a.internal systemctl kill -s KILL kafka # node 1",
      "    start 1: ssh kafka-a.internal systemctl start kafka",
      "    kill 2: ssh kafka-b.internal systemctl kill -s KILL kafka # node 2",
      "    start 2: ssh kafka-b.internal systemctl start kafka",
    ]);
  });

  it("refuses target controller and slow-replication away from the local stack", () => {
    const commands = { commands: { isolate: "x {host}", heal: "y {host}" } };
    expect(() => access(["isolate-broker:target=controller"], commands)).toThrow(
      "target controller: only known on the local stack",
    );
    expect(() => access(["slow-replication"])).toThrow(
      "slow-replication: needs the brokers' replication to go through Toxiproxy",
    );
  });
});
