/**
 * Server-sent events: an incremental parser (per the WHATWG SSE spec) and an
 * encoder, plus TransformStream wrappers for byte streams.
 *
 * @module
 */

import type { SseEvent } from "./events.ts";

export type { SseEvent };

/**
 * Incremental SSE parser. Feed it text in arbitrary chunks; it returns the
 * events completed by each chunk.
 *
 * Handles `\n`, `\r\n` and `\r` line endings (also when a `\r\n` pair is split
 * across chunks), comment lines (`:`), multi-line `data:` (joined with "\n")
 * and the `event:` field. `id:` and `retry:` are ignored; events without any
 * `data:` line are skipped, as the spec says.
 */
export class SseParser {
  #buf = "";
  #data: string[] = [];
  #event: string | undefined;
  /** The previous chunk ended with "\r": a leading "\n" in the next one is the same line break. */
  #skipLf = false;
  #bomChecked = false;

  /** Parses the next chunk of text, returning the events it completed. */
  push(text: string): SseEvent[] {
    let buf = this.#buf + text;
    const out: SseEvent[] = [];
    if (buf.length === 0) return out;
    if (!this.#bomChecked) {
      this.#bomChecked = true;
      if (buf.charCodeAt(0) === 0xfeff) buf = buf.slice(1);
    }
    let start = 0;
    if (this.#skipLf && buf.length > 0) {
      this.#skipLf = false;
      if (buf.charCodeAt(0) === 10) start = 1;
    }
    for (let i = start; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(buf.slice(start, i), out);
      if (c === 13) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#skipLf = true;
        }
      }
      start = i + 1;
    }
    this.#buf = buf.slice(start);
    return out;
  }

  /**
   * Signals the end of the input. A trailing line without a line break is
   * processed, and an event still pending is dispatched: stricter than the spec
   * (which discards it), because upstreams sometimes close the connection right
   * after their last `data:` line.
   */
  flush(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.#buf.length > 0) this.#line(this.#buf, out);
    this.#buf = "";
    this.#skipLf = false;
    this.#line("", out);
    return out;
  }

  #line(line: string, out: SseEvent[]): void {
    if (line === "") {
      if (this.#data.length > 0) {
        const ev: SseEvent = { data: this.#data.join("\n") };
        if (this.#event !== undefined && this.#event !== "") ev.event = this.#event;
        out.push(ev);
      }
      this.#data = [];
      this.#event = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(":");
    let field = line;
    let value = "";
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
  }
}

/**
 * Encodes one event for the wire: `event: X\ndata: Y\n\n`. The event line is
 * omitted when `event` is undefined; multi-line data becomes several `data:`
 * lines (which a parser joins back with "\n").
 */
export function encodeSse(ev: SseEvent): string {
  let out = ev.event !== undefined ? `event: ${ev.event}\n` : "";
  for (const line of ev.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** A stream that decodes UTF-8 bytes into SSE events. */
export function sseDecoderStream(): TransformStream<Uint8Array, SseEvent> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  return new TransformStream<Uint8Array, SseEvent>({
    transform(chunk, controller) {
      for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) {
        controller.enqueue(ev);
      }
    },
    flush(controller) {
      for (const ev of parser.push(decoder.decode())) controller.enqueue(ev);
      for (const ev of parser.flush()) controller.enqueue(ev);
    },
  });
}

/** A stream that encodes SSE events into UTF-8 bytes, one chunk per event. */
export function sseEncoderStream(): TransformStream<SseEvent, Uint8Array> {
  const encoder = new TextEncoder();
  return new TransformStream<SseEvent, Uint8Array>({
    transform(ev, controller) {
      controller.enqueue(encoder.encode(encodeSse(ev)));
    },
  });
}
