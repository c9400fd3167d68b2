/**
 * The Gemini API (`generateContent`, `streamGenerateContent`): decoding
 * upstream answers (JSON and SSE chunks) into {@link AnswerEvent}s. The
 * encoders are in `gemini_encode.ts`.
 *
 * A stream chunk is a whole `GenerateContentResponse` holding the new parts
 * only; a function call always arrives whole, in one part. The stream has no
 * end marker of its own: it is complete when a chunk carried a `finishReason`.
 *
 * Usage convention: `inputTokens` is `promptTokenCount` (cached content
 * included, as OpenAI counts), `outputTokens` is `candidatesTokenCount` plus
 * `thoughtsTokenCount` (Google's own OpenAI-compatible endpoint counts them so).
 *
 * @module
 */

import type { AnswerEvent, SseEvent, StopReason, Usage } from "./events.ts";
import {
  arr,
  isRecord,
  type Json,
  num,
  parseSseJson,
  randomId,
  rec,
  startEvent,
  str,
} from "./_shared.ts";

/**
 * Maps a Gemini `finishReason` to a {@link StopReason}. `STOP` with function
 * calls is `tool_use` (Gemini has no reason of its own for it). The blocking
 * reasons are `content_filter`; a malformed or unexpected tool call, and any
 * reason we do not know, are `refusal`-like failures: never cached, and
 * reported to OpenAI clients as `content_filter`, to Anthropic ones as `refusal`.
 */
export function geminiFinishToStopReason(
  finish: string | undefined,
  hasToolCalls: boolean,
): StopReason {
  switch (finish) {
    case undefined:
    case "STOP":
    case "FINISH_REASON_UNSPECIFIED":
      return hasToolCalls ? "tool_use" : "end_turn";
    case "MAX_TOKENS":
      return "max_tokens";
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
    case "LANGUAGE":
      return "content_filter";
    default:
      return "refusal";
  }
}

/** Maps a {@link StopReason} to a Gemini `finishReason`. */
export function stopReasonToGeminiFinish(reason: StopReason): string {
  switch (reason) {
    case "max_tokens":
      return "MAX_TOKENS";
    case "content_filter":
    case "refusal":
      return "SAFETY";
    default:
      return "STOP";
  }
}

/** Reads a Gemini `usageMetadata` object. */
export function decodeGeminiUsage(u: unknown): Partial<Usage> | undefined {
  if (!isRecord(u)) return undefined;
  const usage: Partial<Usage> = {};
  const prompt = num(u.promptTokenCount);
  const candidates = num(u.candidatesTokenCount);
  const thoughts = num(u.thoughtsTokenCount);
  const cached = num(u.cachedContentTokenCount);
  if (prompt !== undefined) usage.inputTokens = prompt + (num(u.toolUsePromptTokenCount) ?? 0);
  if (candidates !== undefined || thoughts !== undefined) {
    usage.outputTokens = (candidates ?? 0) + (thoughts ?? 0);
  }
  if (cached !== undefined) usage.cacheReadTokens = cached;
  return Object.keys(usage).length > 0 ? usage : undefined;
}

/** The candidate with index 0 (or the first one). */
function firstCandidate(body: Json): Json | undefined {
  const all = arr(body.candidates).filter(isRecord);
  return all.find((c) => (num(c.index) ?? 0) === 0) ?? all[0];
}

/** Decodes the parts of one chunk or answer, numbering tool calls from `nextTool`. */
function decodeParts(parts: unknown[], nextTool: () => number): AnswerEvent[] {
  const out: AnswerEvent[] = [];
  for (const part of parts.filter(isRecord)) {
    const signature = str(part.thoughtSignature);
    const text = str(part.text);
    const call = isRecord(part.functionCall) ? part.functionCall : undefined;
    if (call) {
      const index = nextTool();
      out.push({
        type: "tool_call",
        index,
        id: str(call.id) ?? randomId("call_"),
        name: str(call.name) ?? "",
      });
      out.push({ type: "tool_args", index, delta: JSON.stringify(call.args ?? {}) });
    } else if (text !== undefined && part.thought === true) {
      const ev: AnswerEvent = { type: "reasoning", text };
      if (signature !== undefined) ev.signature = signature;
      out.push(ev);
    } else if (text) {
      out.push({ type: "text", text });
    }
  }
  return out;
}

/** The `start` event of a response or its first chunk. */
function startOf(b: Json): AnswerEvent {
  return startEvent(b.responseId, b.modelVersion);
}

/** Decodes a `GenerateContentResponse` (candidate 0). A blocked prompt stops as `content_filter`. */
export function decodeGeminiJson(body: unknown): AnswerEvent[] {
  const b = rec(body);
  const out: AnswerEvent[] = [startOf(b)];
  const cand = firstCandidate(b);
  let tools = 0;
  if (cand) out.push(...decodeParts(arr(rec(cand.content).parts), () => tools++));
  const usage = decodeGeminiUsage(b.usageMetadata);
  if (usage) out.push({ type: "usage", usage });
  const blocked = str(rec(b.promptFeedback).blockReason);
  out.push({
    type: "stop",
    reason: blocked && !cand
      ? "content_filter"
      : geminiFinishToStopReason(str(cand?.finishReason), tools > 0),
  });
  return out;
}

/**
 * Decodes a `streamGenerateContent?alt=sse` stream. The `stop` event is held
 * until the stream ends ({@link GeminiStreamDecoder.finish}), since usage may
 * follow the chunk that carried the finish reason.
 */
export class GeminiStreamDecoder {
  #started = false;
  #done = false;
  #finish: string | undefined;
  #blocked = false;
  #tools = 0;

  /** Whether a chunk carried a finish reason (or blocked the prompt): the stream is complete. */
  get complete(): boolean {
    return this.#finish !== undefined || this.#blocked;
  }

  /** Decodes one SSE event. Throws on an error chunk. */
  decode(ev: SseEvent): AnswerEvent[] {
    if (this.#done) return [];
    const chunk = parseSseJson(ev.data, "Gemini");
    if (isRecord(chunk.error)) {
      throw new Error(`Gemini stream error: ${str(chunk.error.message) ?? ev.data}`);
    }
    const out: AnswerEvent[] = [];
    if (!this.#started) {
      this.#started = true;
      out.push(startOf(chunk));
    }
    const cand = firstCandidate(chunk);
    if (cand) {
      out.push(...decodeParts(arr(rec(cand.content).parts), () => this.#tools++));
      const finish = str(cand.finishReason);
      if (finish) this.#finish = finish;
    } else if (str(rec(chunk.promptFeedback).blockReason)) {
      this.#blocked = true;
    }
    const usage = decodeGeminiUsage(chunk.usageMetadata);
    if (usage) out.push({ type: "usage", usage });
    return out;
  }

  /** Signals the end of the byte stream: emits the held `stop` when the stream was complete. */
  finish(): AnswerEvent[] {
    if (this.#done) return [];
    this.#done = true;
    if (this.#blocked) return [{ type: "stop", reason: "content_filter" }];
    if (this.#finish === undefined) return [];
    return [{ type: "stop", reason: geminiFinishToStopReason(this.#finish, this.#tools > 0) }];
  }
}

/** Whether recorded Gemini SSE events form a complete stream (a chunk carried `finishReason`). */
export function geminiStreamComplete(events: readonly SseEvent[]): boolean {
  return events.some((e) => e.data.includes('"finishReason"') || e.data.includes('"blockReason"'));
}
