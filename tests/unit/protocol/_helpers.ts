/**
 * Shared helpers of the protocol codec tests.
 *
 * @module
 */

import type { AnswerEvent, SseEvent, Usage } from "../../../src/protocol/events.ts";
import { encodeSse, SseParser } from "../../../src/protocol/sse.ts";

/** Parses a whole SSE text. */
export function parseSse(text: string): SseEvent[] {
  const p = new SseParser();
  return [...p.push(text), ...p.flush()];
}

/** Serializes SSE events to wire text. */
export function sseText(events: SseEvent[]): string {
  return events.map(encodeSse).join("");
}

/** Anything with the stream decoder shape. */
export interface Decoder {
  decode(ev: SseEvent): AnswerEvent[];
  finish(): AnswerEvent[];
}

/** Anything with the stream encoder shape. */
export interface Encoder {
  encode(ev: AnswerEvent): SseEvent[];
}

/** Decodes a whole SSE text with a fresh decoder, including `finish()`. */
export function decodeSse(decoder: Decoder, text: string): AnswerEvent[] {
  const out: AnswerEvent[] = [];
  for (const ev of parseSse(text)) out.push(...decoder.decode(ev));
  out.push(...decoder.finish());
  return out;
}

/** Encodes all events with an encoder. */
export function encodeAll(encoder: Encoder, events: AnswerEvent[]): SseEvent[] {
  return events.flatMap((ev) => encoder.encode(ev));
}

/** Canonical JSON text of tool arguments (whitespace differs between JSON and streams). */
function canonicalArgs(args: string): string {
  try {
    return JSON.stringify(JSON.parse(args));
  } catch {
    return args;
  }
}

/**
 * Normalizes events for comparison: merges adjacent text, adjacent reasoning
 * (signatures concatenated) and adjacent arguments of the same tool call;
 * folds every usage event into one, placed just before `stop`.
 */
export function normalize(events: AnswerEvent[]): AnswerEvent[] {
  const out: AnswerEvent[] = [];
  let usage: Partial<Usage> | undefined;
  let stop: AnswerEvent | undefined;
  for (const ev of events) {
    const last = out[out.length - 1];
    if (ev.type === "usage") {
      usage = { ...usage };
      for (const [k, v] of Object.entries(ev.usage) as [keyof Usage, number][]) {
        if (v !== undefined) usage[k] = v;
      }
    } else if (ev.type === "stop") {
      stop = ev;
    } else if (ev.type === "text" && last?.type === "text") {
      out[out.length - 1] = { type: "text", text: last.text + ev.text };
    } else if (ev.type === "reasoning" && last?.type === "reasoning") {
      const merged: AnswerEvent = { type: "reasoning", text: last.text + ev.text };
      if (last.signature !== undefined || ev.signature !== undefined) {
        merged.signature = (last.signature ?? "") + (ev.signature ?? "");
      }
      out[out.length - 1] = merged;
    } else if (ev.type === "tool_args" && last?.type === "tool_args" && last.index === ev.index) {
      out[out.length - 1] = { ...last, delta: last.delta + ev.delta };
    } else {
      out.push(ev);
    }
  }
  for (let i = 0; i < out.length; i++) {
    const ev = out[i];
    if (ev.type === "tool_args") out[i] = { ...ev, delta: canonicalArgs(ev.delta) };
  }
  if (usage) out.push({ type: "usage", usage });
  if (stop) out.push(stop);
  return out;
}

/** Drops the given event types (for comparing across protocols that cannot carry them). */
export function without(events: AnswerEvent[], ...types: AnswerEvent["type"][]): AnswerEvent[] {
  return events.filter((ev) => !types.includes(ev.type));
}

/** The JSON payloads of SSE events (skipping non-JSON data such as `[DONE]`). */
export function payloads(events: SseEvent[]): Record<string, unknown>[] {
  return events.filter((e) => e.data.startsWith("{")).map((e) => JSON.parse(e.data));
}

/** A deep copy with the given keys removed at any depth. */
export function omitKeys<T>(value: T, ...keys: string[]): T {
  return JSON.parse(JSON.stringify(value, (k, v) => keys.includes(k) ? undefined : v));
}

/** Deep-freezes a value, so a test fails if the code under test mutates it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
