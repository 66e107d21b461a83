/** Ordering and validity of message identities (producer, seq) and of the numbers around them. */

export function compareIds(id: [number, number], producer: number, seq: number): number {
  return id[0] - producer || id[1] - seq;
}

export function sortedUnion(a: number[], b: number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function checkRange(producer: number, from: number, to: number): void {
  if (!isIndex(producer) || !isIndex(from) || !isIndex(to) || from > to) {
    throw new RangeError(`bad send range in history: producer ${producer}, [${from}, ${to}]`);
  }
}

export function checkOutputRange(partition: number, base: number, count: number): void {
  if (!isIndex(partition) || !isIndex(base) || !isIndex(count)) {
    throw new RangeError(
      `bad output range in processor history: partition ${partition}, [${base}, +${count})`,
    );
  }
}
