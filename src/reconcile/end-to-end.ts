/**
 * end-to-end, one message: the producer history's outcome against the copies the pipeline's
 * last stage holds (the input topic of a producer-only run, the output topic read_committed,
 * or the sink's rows). Every anomaly counts here, exactly as hop.ts's countMessage counts it.
 */
export { countMessage as countDelivered } from "./hop.js";
