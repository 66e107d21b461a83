import type kafkajs from "kafkajs";

const POLL_MS = 500;

/**
 * How far the app's consumer group has committed on the input topic: polled in the background
 * (the watchdog's progress measure), and compared with the input's end to tell it caught up.
 */
export class GroupProgress {
  private committed = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;

  constructor(
    private readonly admin: kafkajs.Admin,
    private readonly groupId: string,
    private readonly topic: string,
    /** the input was produced in transactions: each partition ends with a commit marker */
    private readonly markers: boolean,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch(() => {})
        .finally(() => (this.polling = undefined));
    }, POLL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  /** Offsets committed so far, summed over the partitions (grows as the app commits). */
  total(): number {
    let sum = 0;
    for (const offset of this.committed.values()) sum += Math.max(0, offset);
    return sum;
  }

  /** partition → committed offset, as last polled. */
  offsets(): Map<number, number> {
    return new Map(this.committed);
  }

  /** Whether the group has committed the input up to `end`, as last polled (see caughtUp). */
  caughtUpTo(end: Map<number, number>): boolean {
    return caughtUp(this.committed, end, this.markers);
  }

  private async poll(): Promise<void> {
    const [found] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
    const next = new Map<number, number>();
    for (const p of found?.partitions ?? []) next.set(p.partition, Number(p.offset));
    this.committed = next;
  }
}

/**
 * Every partition committed up to its target: the end offset, less one where a transactional
 * producer left a commit marker last (a consumer commits the offset after the last record).
 */
export function caughtUp(
  committed: Map<number, number>,
  end: Map<number, number>,
  markers: boolean,
): boolean {
  for (const [partition, high] of end) {
    if (high <= 0) continue;
    const target = high - (markers ? 1 : 0);
    if ((committed.get(partition) ?? -1) < target) return false;
  }
  return true;
}

/** "p0 120/200, p1 …" for error messages. */
export function describeLag(committed: Map<number, number>, end: Map<number, number>): string {
  return [...end]
    .sort(([a], [b]) => a - b)
    .map(([p, high]) => `p${p} ${Math.max(0, committed.get(p) ?? 0)}/${high}`)
    .join(", ");
}
