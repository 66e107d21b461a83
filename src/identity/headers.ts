/** Headers every message carries: the identity the reconciler keys on. */
export const HEADER_RUN = "kc-run";
export const HEADER_PRODUCER = "kc-producer";
export const HEADER_SEQ = "kc-seq";

export interface Identity {
  runId: string;
  /** -1 when the header is missing or not a whole number */
  producer: number;
  seq: number;
}

/** The identity a consumed message carries in its headers. */
export function identityOf(m: { headers?: Record<string, unknown> }): Identity {
  const h = m.headers ?? {};
  return {
    runId: String(h[HEADER_RUN] ?? ""),
    producer: wholeOrMinusOne(h[HEADER_PRODUCER]),
    seq: wholeOrMinusOne(h[HEADER_SEQ]),
  };
}

function wholeOrMinusOne(value: unknown): number {
  const text = String(value ?? "");
  const n = Number(text);
  return text !== "" && Number.isInteger(n) && n >= 0 ? n : -1;
}
