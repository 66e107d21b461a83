/**
 * Where a message's identity travels through the user's app: the kc-* headers (default, copied
 * by the app from input to output), the key, or a field of a JSON value. Input records always
 * carry the headers too; the mode says where the app's *output* is read from.
 */
import type { IdentityMode } from "../profiles/schema.js";
import { identityOf, type Identity } from "./headers.js";

export type { IdentityMode } from "../profiles/schema.js";

/** The identity as text, in the key, a JSON value or a sink row: "<producer>:<seq>". */
export function identityText(producer: number, seq: number): string {
  return `${producer}:${seq}`;
}

/** Producer and seq of an identity text; -1 for what is not a whole number. */
export function parseIdentityText(text: string): { producer: number; seq: number } {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match) return { producer: -1, seq: -1 };
  return { producer: Number(match[1]), seq: Number(match[2]) };
}

/** The key and value an input record carries for the mode (headers: the given ones). */
export function inputKeyValue(
  mode: IdentityMode,
  producer: number,
  seq: number,
  key: string | null,
  payload: Buffer,
): { key: string | null; value: Buffer } {
  if (mode === "headers") return { key, value: payload };
  const id = identityText(producer, seq);
  if (mode === "key") return { key: id, value: payload };
  const value = setPath({ payload: payload.toString("latin1") }, mode.value.split("."), id);
  return { key, value: Buffer.from(JSON.stringify(value)) };
}

/**
 * Reads the identity of an output record. For key and value modes the run id is the given
 * one (the topic is the run's own); a record without a readable identity gets producer and seq
 * -1 (reported as unexpected).
 */
export function outputIdentity(
  mode: IdentityMode,
  runId: string,
): (m: {
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: Record<string, unknown>;
}) => Identity {
  if (mode === "headers") return identityOf;
  if (mode === "key") return (m) => ({ runId, ...parseIdentityText(m.key?.toString() ?? "") });
  const steps = mode.value.split(".");
  return (m) => ({ runId, ...parseIdentityText(fieldText(m.value, steps)) });
}

function setPath(target: Record<string, unknown>, steps: string[], value: string) {
  let at = target;
  for (const step of steps.slice(0, -1)) {
    const next = (at[step] ??= {});
    at = next as Record<string, unknown>;
  }
  at[steps[steps.length - 1]!] = value;
  return target;
}

function fieldText(value: Buffer | null | undefined, steps: string[]): string {
  if (!value) return "";
  try {
    let at: unknown = JSON.parse(value.toString());
    for (const step of steps) at = (at as Record<string, unknown> | null)?.[step];
    return typeof at === "string" ? at : "";
  } catch {
    return "";
  }
}
