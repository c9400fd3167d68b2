/**
 * The Gemini API encoders: answer events back into a `GenerateContentResponse`
 * (JSON), into `streamGenerateContent?alt=sse` chunks, and the SSE stream into
 * the JSON-array stream that `streamGenerateContent` sends without `alt=sse`.
 *
 * @module
 */

import type { AnswerEvent, SseEvent, Usage } from "./events.ts";
import { collectAnswer, type Json, mergeUsage, parseJsonObject, randomId } from "./_shared.ts";
import { stopReasonOf } from "./_shared.ts";
import { stopReasonToGeminiFinish } from "./gemini.ts";
import { SseParser } from "./sse.ts";

/** Gemini `usageMetadata` from usage (`outputTokens` all count as candidates tokens). */
function encodeUsage(u: Partial<Usage>): Json {
  const input = u.inputTokens ?? 0;
  const output = u.outputTokens ?? 0;
  const out: Json = {
    promptTokenCount: input,
    candidatesTokenCount: output,
    totalTokenCount: input + output,
  };
  if (u.cacheReadTokens) out.cachedContentTokenCount = u.cacheReadTokens;
  return out;
}

function functionCallPart(id: string, name: string, args: string): Json {
  const call: Json = { name, args: parseJsonObject(args) };
  if (id) call.id = id;
  return { functionCall: call };
}

function thoughtPart(text: string, signature: string | undefined): Json {
  const part: Json = { text, thought: true };
  if (signature) part.thoughtSignature = signature;
  return part;
}

function response(parts: Json[], extra: Json, id: string, model: string): Json {
  const candidate: Json = { content: { parts, role: "model" }, ...extra, index: 0 };
  return { candidates: [candidate], modelVersion: model, responseId: id };
}

/** Encodes a complete answer as a `GenerateContentResponse`. */
export function encodeGeminiJson(events: AnswerEvent[]): Record<string, unknown> {
  const a = collectAnswer(events);
  const parts = a.blocks.map((b): Json => {
    if (b.kind === "text") return { text: b.text };
    if (b.kind === "reasoning") return thoughtPart(b.text, b.signature);
    return functionCallPart(b.id, b.name, b.args);
  });
  const out = response(
    parts,
    { finishReason: stopReasonToGeminiFinish(stopReasonOf(a)) },
    a.id || randomId(""),
    a.model ?? "",
  );
  out.usageMetadata = encodeUsage(a.usage ?? {});
  return out;
}

/**
 * Encodes events as `streamGenerateContent?alt=sse` chunks: one chunk per
 * text or thought delta; a function call, which Gemini sends whole, once its
 * arguments are complete (at the next other event, or with the last chunk);
 * the last chunk carries `finishReason` and `usageMetadata`.
 */
export class GeminiStreamEncoder {
  #id = "";
  #model = "";
  #usage: Partial<Usage> = {};
  #stopped = false;
  #tools = new Map<number, { id: string; name: string; args: string }>();

  /** Encodes one event into zero or more SSE events. */
  encode(ev: AnswerEvent): SseEvent[] {
    if (this.#stopped) return [];
    switch (ev.type) {
      case "start":
        this.#id = ev.id;
        this.#model = ev.model;
        return [];
      case "usage":
        this.#usage = mergeUsage(this.#usage, ev.usage);
        return [];
      case "tool_call":
        this.#tools.set(ev.index, { id: ev.id, name: ev.name, args: "" });
        return [];
      case "tool_args": {
        const t = this.#tools.get(ev.index);
        if (t) t.args += ev.delta;
        return [];
      }
      case "text":
        if (!ev.text) return [];
        return [...this.#flushTools(), this.#chunk([{ text: ev.text }])];
      case "reasoning":
        if (!ev.text && !ev.signature) return [];
        return [...this.#flushTools(), this.#chunk([thoughtPart(ev.text, ev.signature)])];
      case "stop": {
        this.#stopped = true;
        const parts = this.#pendingParts();
        const extra = { finishReason: stopReasonToGeminiFinish(ev.reason) };
        const body = response(parts, extra, this.#responseId(), this.#model);
        body.usageMetadata = encodeUsage(this.#usage);
        return [{ data: JSON.stringify(body) }];
      }
    }
  }

  #responseId(): string {
    if (!this.#id) this.#id = randomId("");
    return this.#id;
  }

  #pendingParts(): Json[] {
    const parts = [...this.#tools.values()].map((t) => functionCallPart(t.id, t.name, t.args));
    this.#tools.clear();
    return parts;
  }

  #flushTools(): SseEvent[] {
    return this.#tools.size > 0 ? [this.#chunk(this.#pendingParts())] : [];
  }

  #chunk(parts: Json[]): SseEvent {
    const body = response(parts, {}, this.#responseId(), this.#model);
    if (this.#usage.inputTokens !== undefined) body.usageMetadata = encodeUsage(this.#usage);
    return { data: JSON.stringify(body) };
  }
}

const encoder = new TextEncoder();

/**
 * Turns Gemini SSE bytes into the JSON-array stream `streamGenerateContent`
 * sends without `alt=sse`: `[` chunk `,\r\n` chunk ... `]`, each element sent
 * as soon as its event arrived.
 */
export function geminiJsonArrayStream(): TransformStream<Uint8Array, Uint8Array> {
  const parser = new SseParser();
  const text = new TextDecoder();
  let first = true;
  const emit = (events: SseEvent[], out: TransformStreamDefaultController<Uint8Array>) => {
    for (const ev of events) {
      out.enqueue(encoder.encode((first ? "[" : ",\r\n") + ev.data));
      first = false;
    }
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      emit(parser.push(text.decode(chunk, { stream: true })), out);
    },
    flush(out) {
      emit(parser.push(text.decode()), out);
      emit(parser.flush(), out);
      out.enqueue(encoder.encode(first ? "[]" : "]"));
    },
  });
}
