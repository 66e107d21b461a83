/**
 * kafkajs's own retrier and protocol errors, for tests: errors are built and wrapped exactly as
 * kafkajs 2.2.4 builds and wraps them in a send (src/producer/sendMessages.js, src/retry).
 */
import { createRequire } from "node:module";
import kafkajs from "kafkajs";

const require = createRequire(import.meta.url);

type Retrier = <T>(
  fn: (bail: (e: Error) => void, retryCount: number, retryTime: number) => Promise<T>,
) => Promise<T>;

const createRetry = require("kafkajs/src/retry") as (opts: object) => Retrier;
const { createErrorFromCode, errorCodes } = require("kafkajs/src/protocol/error") as {
  createErrorFromCode: (code: number) => Error;
  errorCodes: { type: string; code: number }[];
};

/** A KafkaJSProtocolError as a produce response with that error code makes it. */
export function protocolError(type: string): Error {
  const found = errorCodes.find((e) => e.type === type);
  if (!found) throw new Error(`kafkajs knows no error ${type}`);
  return createErrorFromCode(found.code);
}

/**
 * What producer.send() rejects with when its attempts throw `errors` one after the other, with
 * `retries` retries: sendMessages rethrows retriable errors and bails on the others, and the
 * retrier wraps the last one (KafkaJSNumberOfRetriesExceeded) or passes a bailed one through.
 */
export async function sendError(errors: Error[], retries: number): Promise<unknown> {
  const retrier = createRetry({ retries, initialRetryTime: 1, maxRetryTime: 2 });
  let attempt = 0;
  try {
    await retrier(async (bail) => {
      const e = errors[Math.min(attempt, errors.length - 1)] as Error & { retriable?: boolean };
      attempt += 1;
      if (e.retriable) throw e;
      bail(e);
    });
  } catch (err) {
    return err;
  }
  throw new Error("the send did not fail");
}

export const { KafkaJSConnectionError, KafkaJSRequestTimeoutError } = kafkajs;

/** kafkajs's sendMessages, to drive a real send against a fake cluster. */
export const createSendMessages = require("kafkajs/src/producer/sendMessages") as (deps: {
  logger: object;
  cluster: object;
  partitioner: (args: { message: { partition?: number } }) => number;
  eosManager: object;
  retrier: Retrier;
}) => (args: {
  acks: number;
  timeout?: number;
  compression?: number;
  topicMessages: { topic: string; messages: kafkajs.Message[] }[];
}) => Promise<kafkajs.RecordMetadata[]>;

export { createRetry };

/** A kafkajs error class by name, built with the arguments kafkajs itself passes (its typings lag). */
export function kafkajsError(name: string, ...args: unknown[]): Error {
  const Class = (kafkajs as unknown as Record<string, new (...a: unknown[]) => Error>)[name];
  if (!Class) throw new Error(`kafkajs has no ${name}`);
  return new Class(...args);
}
