/**
 * Token usage of an answer, read cheaply for the stats: from a recording's
 * usage events, from a JSON body, or by watching a live SSE stream go by
 * (bytes are relayed untouched; only `data:` lines that mention `"usage"` are parsed).
 *
 * Convention, as in the protocol codecs: `inputTokens` is the whole prompt,
 * provider-cached tokens included.
 *
 * @module
 */

import type { AnswerEvent, Usage } from "../protocol/events.ts";
import { decodeGeminiUsage } from "../protocol/gemini.ts";

const decoder = new TextDecoder();
/** A partial SSE line longer than this is dropped (it cannot be a usage line worth parsing). */
const MAX_CARRY = 1 << 20;

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

/**
 * Reads a provider `usage` object: OpenAI chat (`prompt_tokens`), OpenAI
 * Responses (`input_tokens`) or Anthropic (`input_tokens` plus cache tokens).
 *
 * @example
 * ```ts
 * readUsageObject({ prompt_tokens: 12, completion_tokens: 3 }); // { inputTokens: 12, outputTokens: 3 }
 * ```
 */
export function readUsageObject(u: unknown): Partial<Usage> | null {
  const o = rec(u);
  if (!o) return null;
  const out: Partial<Usage> = {};
  const cacheRead = num(o.cache_read_input_tokens);
  const cacheWrite = num(o.cache_creation_input_tokens);
  const prompt = num(o.prompt_tokens);
  const input = num(o.input_tokens);
  if (prompt !== undefined) out.inputTokens = prompt;
  else if (input !== undefined) out.inputTokens = input + (cacheRead ?? 0) + (cacheWrite ?? 0);
  const output = num(o.completion_tokens) ?? num(o.output_tokens);
  if (output !== undefined) out.outputTokens = output;
  const cached = num(rec(o.prompt_tokens_details)?.cached_tokens) ??
    num(rec(o.input_tokens_details)?.cached_tokens) ?? cacheRead;
  if (cached !== undefined) out.cacheReadTokens = cached;
  return Object.keys(out).length > 0 ? out : null;
}

/** Later values win per field, as the codecs merge usage. */
function merge(into: Partial<Usage> | null, from: Partial<Usage> | null): Partial<Usage> | null {
  if (!from) return into;
  return { ...(into ?? {}), ...from };
}

/** Usage carried by one parsed JSON value: a whole answer or one stream event. */
function usageOfValue(v: unknown): Partial<Usage> | null {
  const o = rec(v);
  if (!o) return null;
  return readUsageObject(o.usage) ?? readUsageObject(rec(o.message)?.usage) ??
    readUsageObject(rec(o.response)?.usage) ?? decodeGeminiUsage(o.usageMetadata) ?? null;
}

/**
 * The JSON object that follows the last `"usage":` key in a text, or null.
 * Answers put usage last (OpenAI, Anthropic) or near the end (Responses), so
 * this reads a few hundred bytes instead of parsing the whole body.
 */
function lastUsageObject(text: string): unknown {
  const at = text.lastIndexOf('"usage"');
  if (at < 0) return null;
  const open = text.indexOf("{", at);
  if (open < 0) return null;
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return JSON.parse(text.slice(open, i + 1));
  }
  return null;
}

/** `"usage"` as bytes. */
const USAGE_KEY = [34, 117, 115, 97, 103, 101, 34];

/** Where the last `"usage"` starts in a body, or -1 (searched from the end, without decoding). */
function lastUsageKeyAt(bytes: Uint8Array): number {
  outer: for (let i = bytes.length - USAGE_KEY.length; i >= 0; i--) {
    if (bytes[i] !== 34) continue;
    for (let j = 1; j < USAGE_KEY.length; j++) if (bytes[i + j] !== USAGE_KEY[j]) continue outer;
    return i;
  }
  return -1;
}

/** Usage of a complete JSON answer body (any of the three protocols), or null. */
export function usageOfJson(bytes: Uint8Array): Partial<Usage> | null {
  try {
    // The fast path decodes and reads only the usage object; nested usage (Responses'
    // `response.usage`) or an odd layout falls back to a full parse.
    const at = lastUsageKeyAt(bytes);
    const fast = at < 0
      ? null
      : readUsageObject(lastUsageObject(decoder.decode(bytes.subarray(at))));
    return fast ?? usageOfValue(JSON.parse(decoder.decode(bytes)));
  } catch {
    return null;
  }
}

/** Usage of a recording: its usage events merged in order, or null. */
export function usageOfEvents(events: readonly AnswerEvent[]): Partial<Usage> | null {
  let out: Partial<Usage> | null = null;
  for (const ev of events) if (ev.type === "usage") out = merge(out, ev.usage);
  return out;
}

/**
 * Wraps a live SSE byte stream: the same chunks come out, unchanged and as they
 * arrive; `onEnd` is called once with the usage seen and whether the stream
 * completed (false when it failed or the client went away).
 */
export function tapSseUsage(
  stream: ReadableStream<Uint8Array>,
  onEnd: (usage: Partial<Usage> | null, completed: boolean) => void,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  const text = new TextDecoder();
  let carry = "";
  let usage: Partial<Usage> | null = null;
  let ended = false;
  const end = (completed: boolean) => {
    if (ended) return;
    ended = true;
    onEnd(usage, completed);
  };
  const scan = (chunk: Uint8Array) => {
    const s = carry + text.decode(chunk, { stream: true });
    const cut = s.lastIndexOf("\n");
    carry = s.slice(cut + 1);
    if (carry.length > MAX_CARRY) carry = "";
    // `"usage` also finds Gemini's `"usageMetadata"`.
    if (cut < 0 || !s.includes('"usage')) return;
    for (const line of s.slice(0, cut).split("\n")) {
      if (!line.startsWith("data:") || !line.includes('"usage')) continue;
      try {
        usage = merge(usage, usageOfValue(JSON.parse(line.slice(5))));
      } catch {
        // Not JSON: nothing to count.
      }
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          out.close();
          end(true);
          return;
        }
        out.enqueue(value);
        scan(value);
      } catch (e) {
        end(false);
        out.error(e);
      }
    },
    cancel(reason) {
      end(false);
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
