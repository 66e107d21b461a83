import { UsageError } from "../errors.js";
import type { BrokerControl, TargetLookup } from "../faults/ports.js";
import type { Cluster } from "./cluster.js";

/**
 * Who plays which part in the run's cluster, asked when a fault starts: leadership and
 * coordinators move when brokers fail. Read over the run's direct admin connection.
 */
export class RunTargets implements TargetLookup {
  constructor(
    private readonly cluster: Cluster,
    private readonly input: string,
    /** the processor's group and transactional ids; undefined without a processor */
    private readonly processor: { group: string; transactionalId: string } | undefined,
    private readonly brokers?: BrokerControl,
  ) {}

  leaders(): Promise<number[]> {
    return this.cluster.leadersOf(this.input);
  }

  async partitionLeader(): Promise<number> {
    const p0 = await this.partition0();
    if (p0.leader < 0) throw new Error(`input partition 0 of ${this.input} has no leader now`);
    return p0.leader;
  }

  async followers(): Promise<number[]> {
    const p0 = await this.partition0();
    const others = p0.replicas.filter((r) => r !== p0.leader);
    const inSync = others.filter((r) => p0.isr.includes(r));
    return [...inSync, ...others.filter((r) => !inSync.includes(r))];
  }

  async coordinators(): Promise<number[]> {
    if (!this.processor) return [];
    const found = await Promise.all([
      this.cluster.coordinatorOf("__consumer_offsets", this.processor.group),
      this.cluster.coordinatorOf("__transaction_state", this.processor.transactionalId),
    ]);
    return [...new Set(found.filter((c) => c !== undefined))];
  }

  async transactionCoordinator(): Promise<number | undefined> {
    if (!this.processor) return undefined;
    const { group, transactionalId } = this.processor;
    return (
      (await this.cluster.coordinatorOf("__transaction_state", transactionalId)) ??
      (await this.cluster.coordinatorOf("__consumer_offsets", group))
    );
  }

  controller(): Promise<number> {
    if (this.brokers?.controller) return this.brokers.controller();
    // Kafka tells clients a random broker as "controller" under KRaft: not worth a fault.
    throw new UsageError(
      "target controller: only known on the local stack; on other clusters name the controller as broker-<nodeId>",
    );
  }

  private async partition0() {
    const p0 = (await this.cluster.partitions(this.input))[0];
    if (!p0) throw new Error(`no metadata for ${this.input}`);
    return p0;
  }
}
