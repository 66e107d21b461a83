/** Headers every message carries: the identity the reconciler keys on. */
export const HEADER_RUN = "kc-run";
export const HEADER_PRODUCER = "kc-producer";
export const HEADER_SEQ = "kc-seq";
