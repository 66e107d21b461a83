/** Every fault kind, in the order help texts list them. A new kind is one module plus one line. */
import { isolateBroker } from "./broker/isolate-broker.js";
import { killBroker } from "./broker/kill-broker.js";
import { pauseBroker } from "./broker/pause-broker.js";
import { slowReplication } from "./broker/slow-replication.js";
import { stopBroker } from "./broker/stop-broker.js";
import type { Fault, FaultType } from "./fault.js";
import type { FaultKind } from "./kind.js";
import { bandwidth } from "./network/bandwidth.js";
import { cutConnection } from "./network/cut-connection.js";
import { dropAcks } from "./network/drop-acks.js";
import { latency } from "./network/latency.js";
import { resetPeer } from "./network/reset-peer.js";
import { slowClose } from "./network/slow-close.js";
import { crashConsumer } from "./process/crash-consumer.js";
import { crashProducer } from "./process/crash-producer.js";
import { crashApp } from "./process/crash-app.js";
import { pauseApp } from "./process/pause-app.js";
import { stopApp } from "./process/stop-app.js";

const KINDS: { [T in FaultType]: FaultKind<Extract<Fault, { type: T }>> } = {
  "cut-connection": cutConnection,
  "drop-acks": dropAcks,
  latency,
  bandwidth,
  "reset-peer": resetPeer,
  "slow-close": slowClose,
  "crash-consumer": crashConsumer,
  "crash-producer": crashProducer,
  "crash-app": crashApp,
  "stop-app": stopApp,
  "pause-app": pauseApp,
  "kill-broker": killBroker,
  "stop-broker": stopBroker,
  "pause-broker": pauseBroker,
  "isolate-broker": isolateBroker,
  "slow-replication": slowReplication,
};

export const FAULT_TYPES = Object.keys(KINDS) as FaultType[];

/** The kind of a fault, typed loosely: callers pass the fault it was looked up for. */
export function kindOf(type: FaultType): FaultKind {
  return KINDS[type] as unknown as FaultKind;
}
