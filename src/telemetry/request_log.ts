/**
 * The request log: one JSON line per request in `<data_dir>/requests.jsonl`,
 * for `isartor logs --requests`. Lines are buffered and appended about once a
 * second and on close; the file rotates to `requests.jsonl.1` past a size limit.
 *
 * A line holds what the stats hold (time, tool, route, model, layer, status,
 * latency, tokens), never prompt contents or keys.
 *
 * @module
 */

import { FlushTimer } from "./flush_timer.ts";
import { type RequestFields, requestFields, type RequestRecord } from "./stats.ts";

/** The file name inside the data directory. */
export const REQUEST_LOG_FILE = "requests.jsonl";
/** Rotation threshold. */
export const REQUEST_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Lines kept in memory while the disk is slow, before the oldest are dropped. */
const MAX_PENDING = 10_000;

/** One line of the request log. */
export interface RequestLogLine extends RequestFields {
  request_id: string;
}

/** The JSON line for a record. */
export function logLine(r: RequestRecord, requestId: string): RequestLogLine {
  // `time` first, then the id, then the rest, as the lines have always read.
  const { time, ...rest } = requestFields(r);
  return { time, request_id: requestId, ...rest };
}

/** Options of {@linkcode RequestLog}. */
export interface RequestLogOptions {
  /** The log file. */
  path: string;
  maxBytes?: number;
  flushDelayMs?: number;
  warn?: (message: string) => void;
}

/** A buffered, rotating JSON-lines writer. */
export class RequestLog {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #warn: (message: string) => void;
  /** Records waiting for the disk, formatted only when written (off the request path). */
  #pending: { record: RequestRecord; requestId: string }[] = [];
  #size: number | null = null;
  readonly #flushTimer: FlushTimer;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  #warned = false;

  constructor(options: RequestLogOptions) {
    this.path = options.path;
    this.#maxBytes = options.maxBytes ?? REQUEST_LOG_MAX_BYTES;
    this.#flushTimer = new FlushTimer(options.flushDelayMs ?? 1000, () => this.flush());
    this.#warn = options.warn ?? ((m) => console.error(`[isartor] ${m}`));
  }

  /** Queues one request's line; it reaches the disk within about a second. */
  append(record: RequestRecord, requestId: string): void {
    if (this.#closed) return;
    this.#pending.push({ record, requestId });
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
    this.#flushTimer.schedule();
  }

  /** Appends what is queued now. */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#write());
    return this.#writing;
  }

  async #write(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.map((p) => JSON.stringify(logLine(p.record, p.requestId)) + "\n")
      .join("");
    this.#pending = [];
    try {
      if (this.#size === null) {
        this.#size = await Deno.stat(this.path).then((s) => s.size, () => 0);
      }
      if (this.#size > 0 && this.#size + text.length > this.#maxBytes) {
        await Deno.rename(this.path, `${this.path}.1`);
        this.#size = 0;
      }
      await Deno.writeTextFile(this.path, text, { append: true, mode: 0o600 });
      this.#size += text.length;
    } catch (e) {
      this.#size = null;
      if (!this.#warned) this.#warn(`cannot write ${this.path}: ${(e as Error).message}`);
      this.#warned = true;
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flushTimer.cancel();
    await this.flush();
  }
}
