import { writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { HistoryEvent } from "./events.js";

/**
 * Append-only JSON-lines writer for the run history.
 *
 * `append` only buffers; `flush` writes everything buffered so far with one write.
 * The workload appends the invokes of a batch, awaits `flush`, then sends, so a crash
 * can only lose completions (which reconcile then counts as unknown), never an invoke
 * of a message that was actually sent.
 */
export class HistoryWriter {
  private buffer: string[] = [];
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly file: FileHandle,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<HistoryWriter> {
    return new HistoryWriter(await open(path, "a"), path);
  }

  append(event: HistoryEvent): void {
    if (this.closed) throw new Error(`history ${this.path} is closed`);
    this.buffer.push(JSON.stringify(event));
  }

  /** Writes the lines appended so far. Flushes run one after another, in call order. */
  flush(): Promise<void> {
    const chunk = this.take();
    if (chunk === "") return this.tail;
    const done = this.tail.then(() => writeAll(this.file, Buffer.from(chunk)));
    // A failed write is reported to its own caller; later flushes still run.
    this.tail = done.catch(() => undefined);
    return done;
  }

  /**
   * For a process 'exit' handler, where nothing asynchronous runs any more: writes the
   * lines not yet handed to a flush. A flush already under way is left alone, because
   * writing its lines again could duplicate them; losing it only loses completions.
   */
  flushSync(): void {
    if (this.closed) return;
    const chunk = this.take();
    if (chunk === "") return;
    const bytes = Buffer.from(chunk);
    let written = 0;
    while (written < bytes.length) {
      written += writeSync(this.file.fd, bytes, written, bytes.length - written);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.file.close();
    }
  }

  private take(): string {
    if (this.buffer.length === 0) return "";
    const chunk = this.buffer.join("\n") + "\n";
    this.buffer = [];
    return chunk;
  }
}

/** One write in practice; loops only if the OS accepts part of it (e.g. disk nearly full). */
async function writeAll(file: FileHandle, bytes: Buffer): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const result = await file.write(bytes, written, bytes.length - written);
    written += result.bytesWritten;
  }
}
