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

  /**
   * Writes the lines appended so far with one synchronous write. Synchronous on purpose: an
   * async write through the thread pool cost ~10% of producer throughput (bench/producer.mjs),
   * and a few microseconds of blocking cannot reorder lines. No fsync: a crash of the tool
   * keeps what reached the OS; only a crash of the machine could lose the last lines.
   */
  flush(): Promise<void> {
    try {
      this.flushSync();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** For a process 'exit' handler too, where nothing asynchronous runs any more. */
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

/** A worker (or app instance) started, crashed or stopped: on disk soon, nobody waits for it. */
export function appendWorkerEvent(
  history: HistoryWriter,
  phase: "start" | "crash" | "stop",
  worker: string,
  time: number,
  point?: string,
): void {
  history.append({ type: "worker", phase, worker, ...(point ? { point } : {}), time });
  void history.flush().catch(() => {});
}
