/**
 * The cause of a send error, apart from where it happened: the error's text with each broker
 * address taken out. Sends that failed for one cause against several brokers (or proxies) are
 * one group, which lists the addresses. Pure.
 */

/** host:port, IPv4:port or [IPv6]:port as clients print them. */
const ADDRESS =
  /\[[0-9a-f:]+\]:\d{2,5}\b|\b(?:\d{1,3}\.){3}\d{1,3}:\d{2,5}\b|\b[a-z][\w.-]*:\d{2,5}\b/gi;

export interface ErrorCause {
  /** the text with every address replaced by `<address>` */
  cause: string;
  /** the addresses the text named, in order, without repeats */
  addresses: string[];
}

export function errorCause(text: string): ErrorCause {
  const addresses: string[] = [];
  const cause = text.replace(ADDRESS, (address) => {
    if (!addresses.includes(address)) addresses.push(address);
    return "<address>";
  });
  return { cause, addresses };
}

/**
 * The broker's last answer refused the records before appending them: NOT_ENOUGH_REPLICAS
 * (kafkajs prints its type, librdkafka its code 19), not ..._AFTER_APPEND (code 20), which
 * means they were written. Earlier attempts of the same send may still have written them.
 */
export function refusedBeforeAppend(text: string | undefined): boolean {
  if (text === undefined) return false;
  return /\[NOT_ENOUGH_REPLICAS\]/.test(text) || /^LibrdKafkaError \[19\]:/.test(text);
}
