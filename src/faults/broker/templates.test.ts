import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InfrastructureError, UsageError } from "../../errors.js";
import {
  BROKER_ACTIONS,
  BrokerCommandError,
  CommandFailure,
  missingTemplates,
  renderCommand,
  templatesFromEnv,
  TemplateBrokerControl,
  type BrokerTemplates,
} from "./templates.js";

const hosts = [
  { nodeId: 1, host: "kafka-1.example.com", port: 9092 },
  { nodeId: 2, host: "10.0.0.2", port: 9093 },
];

function recorder(fail?: (cmd: string) => Error | undefined) {
  const commands: { cmd: string; timeoutMs: number }[] = [];
  const run = async (cmd: string, timeoutMs: number) => {
    commands.push({ cmd, timeoutMs });
    const error = fail?.(cmd);
    if (error) throw error;
  };
  return { commands, run };
}

describe("templatesFromEnv / missingTemplates", () => {
  it("reads KAFKA_CHAOS_BROKER_<ACTION>, ignoring empty ones", () => {
    expect(
      templatesFromEnv({
        KAFKA_CHAOS_BROKER_KILL: "ssh {host} kill -9 kafka",
        KAFKA_CHAOS_BROKER_START: "ssh {host} start",
        KAFKA_CHAOS_BROKER_PAUSE: " ",
        OTHER: "x",
      }),
    ).toEqual({ kill: "ssh {host} kill -9 kafka", start: "ssh {host} start" });
  });

  it("lists the needed actions without a template, in the order asked", () => {
    expect(
      missingTemplates({ kill: "k", start: " " }, ["kill", "start", "heal", "isolate"]),
    ).toEqual(["start", "heal", "isolate"]);
    expect(missingTemplates({}, [])).toEqual([]);
  });
});

describe("renderCommand", () => {
  it("fills {host}, {nodeId} and {port}, every time they appear", () => {
    expect(renderCommand("ssh {host} 'kafka-stop {nodeId} {port}' # {host}", hosts[0]!)).toBe(
      "ssh kafka-1.example.com 'kafka-stop 1 9092' # kafka-1.example.com",
    );
  });

  it("leaves the shell's ${VAR}, brace expansions and awk programs alone", () => {
    const template = "ssh ${USER}@{host} \"ps ax | awk '{print $1}'\"; echo {a,b}";
    expect(renderCommand(template, hosts[1]!)).toBe(
      "ssh ${USER}@10.0.0.2 \"ps ax | awk '{print $1}'\"; echo {a,b}",
    );
  });

  it("refuses an unknown placeholder, naming it", () => {
    expect(() => renderCommand("ssh {hostname} kill", hosts[0]!)).toThrow(UsageError);
    expect(() => renderCommand("ssh {hostname} kill", hosts[0]!)).toThrow(/\{hostname\}/);
  });

  it.each([
    "a;rm -rf /",
    "a b",
    "$(id)",
    "`id`",
    "a|b",
    "a&b",
    "a>b",
    "'a'",
    "",
    "-oProxyCommand=x",
  ])("refuses the host %j", (host) => {
    expect(() => renderCommand("ssh {host}", { nodeId: 1, host, port: 9092 })).toThrow(UsageError);
  });

  it("takes IPv6 addresses", () => {
    expect(renderCommand("{host}", { nodeId: 1, host: "fe80::1", port: 9092 })).toBe("fe80::1");
  });
});

describe("TemplateBrokerControl", () => {
  const all = (prefix: string) =>
    Object.fromEntries(BROKER_ACTIONS.map((a) => [a, `${prefix} ${a} {host} {nodeId} {port}`]));

  it("runs each action's command for the broker, bounded by timeoutMs", async () => {
    const { commands, run } = recorder();
    const control = new TemplateBrokerControl(
      { commands: all("ctl"), hosts, timeoutMs: 1234 },
      run,
    );
    expect(control.nodes()).toEqual([1, 2]);
    await control.kill(1);
    await control.stop(2);
    await control.pause(1);
    await control.resume(1);
    await control.isolate(2);
    await control.heal(2);
    expect(commands).toEqual([
      { cmd: "ctl kill kafka-1.example.com 1 9092", timeoutMs: 1234 },
      { cmd: "ctl stop 10.0.0.2 2 9093", timeoutMs: 1234 },
      { cmd: "ctl pause kafka-1.example.com 1 9092", timeoutMs: 1234 },
      { cmd: "ctl resume kafka-1.example.com 1 9092", timeoutMs: 1234 },
      { cmd: "ctl isolate 10.0.0.2 2 9093", timeoutMs: 1234 },
      { cmd: "ctl heal 10.0.0.2 2 9093", timeoutMs: 1234 },
    ]);
  });

  it("times commands out after 60 s by default", async () => {
    const { commands, run } = recorder();
    await new TemplateBrokerControl({ commands: { kill: "k" }, hosts }, run).kill(1);
    expect(commands).toEqual([{ cmd: "k", timeoutMs: 60_000 }]);
  });

  it("dryRun shows the command without running it", () => {
    const { commands, run } = recorder();
    const control = new TemplateBrokerControl({ commands: all("ctl"), hosts }, run);
    expect(control.dryRun("isolate", 2)).toBe("ctl isolate 10.0.0.2 2 9093");
    expect(commands).toEqual([]);
  });

  it("a missing template is a usage error naming the variable and the profile field", async () => {
    const { commands, run } = recorder();
    const control = new TemplateBrokerControl({ commands: { kill: "k", heal: "" }, hosts }, run);
    await expect(control.pause(1)).rejects.toThrow(UsageError);
    await expect(control.pause(1)).rejects.toThrow(
      /KAFKA_CHAOS_BROKER_PAUSE or brokers\.commands\.pause/,
    );
    await expect(control.heal(1)).rejects.toThrow(/KAFKA_CHAOS_BROKER_HEAL/);
    expect(() => control.dryRun("start", 1)).toThrow(/brokers\.commands\.start/);
    expect(commands).toEqual([]);
  });

  it("refuses bad templates and hosts when built, before any fault", () => {
    const { run } = recorder();
    const build = (t: BrokerTemplates) => () => new TemplateBrokerControl(t, run);
    expect(build({ commands: { stop: "ssh {hots} stop" }, hosts })).toThrow(
      /KAFKA_CHAOS_BROKER_STOP \/ brokers\.commands\.stop: .*unknown placeholder \{hots\}/,
    );
    expect(
      build({ commands: { kill: "ssh {host}" }, hosts: [{ nodeId: 1, host: "a;b", port: 1 }] }),
    ).toThrow(UsageError);
    expect(build({ commands: {}, hosts: [hosts[0]!, hosts[0]!] })).toThrow(/listed twice/);
  });

  it("refuses a broker it does not know", async () => {
    const { commands, run } = recorder();
    const control = new TemplateBrokerControl({ commands: { kill: "k {nodeId}" }, hosts }, run);
    await expect(control.kill(7)).rejects.toThrow(/broker 7 is not one of .*\(1, 2\)/);
    expect(commands).toEqual([]);
  });

  it("a failed command is an infrastructure error with the command and its output", async () => {
    const { run } = recorder(() => new CommandFailure("exited with code 255", "ssh: no route"));
    const control = new TemplateBrokerControl({ commands: { kill: "ssh {host} k" }, hosts }, run);
    const error = await control.kill(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect(error).toBeInstanceOf(BrokerCommandError);
    expect(error).toMatchObject({
      exitCode: 3,
      host: "kafka-1.example.com:9092",
      action: "kill",
      nodeId: 1,
      command: "ssh kafka-1.example.com k",
      stderr: "ssh: no route",
    });
    expect((error as Error).message).toContain("`ssh kafka-1.example.com k` exited with code 255");
  });

  it("a runner's own error is an infrastructure error too", async () => {
    const { run } = recorder(() => new Error("boom"));
    const control = new TemplateBrokerControl({ commands: { heal: "h" }, hosts }, run);
    await expect(control.heal(2)).rejects.toThrow(InfrastructureError);
    await expect(control.heal(2)).rejects.toThrow(/heal of broker 2: `h` failed: boom/);
  });

  describe("start", () => {
    let server: net.Server | undefined;
    afterEach(() => server?.close());

    it("returns once the broker accepts connections", async () => {
      server = net.createServer((s) => s.destroy());
      await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
      const port = (server.address() as net.AddressInfo).port;
      const { commands, run } = recorder();
      const control = new TemplateBrokerControl(
        { commands: { start: "up {port}" }, hosts: [{ nodeId: 3, host: "127.0.0.1", port }] },
        run,
      );
      await control.start(3);
      expect(commands.map((c) => c.cmd)).toEqual([`up ${port}`]);
    });

    it("waits for a broker that begins listening a little later", async () => {
      const free = net.createServer();
      await new Promise<void>((r) => free.listen(0, "127.0.0.1", r));
      const port = (free.address() as net.AddressInfo).port;
      await new Promise((r) => free.close(r));
      const run = async () => {
        setTimeout(() => {
          server = net.createServer((s) => s.destroy());
          server.listen(port, "127.0.0.1");
        }, 600);
      };
      const control = new TemplateBrokerControl(
        { commands: { start: "up" }, hosts: [{ nodeId: 3, host: "127.0.0.1", port }] },
        run,
      );
      const t0 = Date.now();
      await control.start(3);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    });

    it("is an infrastructure error when the broker never listens within timeoutMs", async () => {
      const free = net.createServer();
      await new Promise<void>((r) => free.listen(0, "127.0.0.1", r));
      const port = (free.address() as net.AddressInfo).port;
      await new Promise((r) => free.close(r));
      const { run } = recorder();
      const control = new TemplateBrokerControl(
        {
          commands: { start: "up" },
          hosts: [{ nodeId: 3, host: "127.0.0.1", port }],
          timeoutMs: 700,
        },
        run,
      );
      const t0 = Date.now();
      const error = await control.start(3).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(error).toBeInstanceOf(InfrastructureError);
      expect((error as Error).message).toMatch(
        /did not accept connections within 0\.7 s \(ECONNREFUSED\)/,
      );
    });

    it("does not wait when the start command itself failed", async () => {
      const { commands, run } = recorder(() => new CommandFailure("exited with code 1", ""));
      const control = new TemplateBrokerControl(
        { commands: { start: "up" }, hosts: [{ nodeId: 3, host: "127.0.0.1", port: 1 }] },
        run,
      );
      await expect(control.start(3)).rejects.toThrow(/`up` exited with code 1$/);
      expect(commands).toHaveLength(1);
    });
  });

  describe("with a real sh -c", () => {
    const control = (command: string, timeoutMs = 5000) =>
      new TemplateBrokerControl({ commands: { kill: command }, hosts, timeoutMs });

    it("a command that exits 0 succeeds, and prints nothing of its own", async () => {
      await expect(control("echo killing {nodeId} at {host}").kill(2)).resolves.toBeUndefined();
    });

    it("a failing command is an infrastructure error with the end of its stderr", async () => {
      const script = "for i in $(seq 1 30); do echo line $i >&2; done; echo out; exit 3";
      const error = await control(script)
        .kill(1)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerCommandError);
      const e = error as BrokerCommandError;
      expect(e.problem).toBe("exited with code 3");
      expect(e.stderr.split("\n")).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 11}`));
      expect(e.message).toContain(`\`${script}\` exited with code 3:\n  line 11\n`);
      await expect(control("false").kill(1)).rejects.toThrow(/`false` exited with code 1$/);
    });

    it("a command that outlives timeoutMs is killed, with what it started", async () => {
      const t0 = Date.now();
      const error = await control("echo started >&2; sleep 30", 300)
        .kill(1)
        .catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(error).toBeInstanceOf(InfrastructureError);
      expect((error as BrokerCommandError).problem).toBe("timed out after 0.3 s");
      expect((error as BrokerCommandError).stderr).toBe("started");
    });
  });
});
