/**
 * OpenAI Chat Completions: decoding upstream answers (JSON and SSE chunks)
 * into {@link AnswerEvent}s and encoding events back into the same wire shapes.
 *
 * Usage convention: `inputTokens` is the whole prompt, cached tokens included
 * (OpenAI's `prompt_tokens`), so it maps 1:1 here.
 *
 * @module
 */

import {
  type AnswerEvent,
  type SseEvent,
  type StopReason,
  unfinishedFlag,
  type Usage,
} from "./events.ts";
import {
  arr,
  collectAnswer,
  isRecord,
  type Json,
  mergeUsage,
  nowSeconds,
  num,
  parseSseJson,
  randomId,
  rec,
  startEvent,
  stopReasonOf,
  str,
} from "./_shared.ts";

/** Maps an OpenAI `finish_reason` to a {@link StopReason} (unknown values → `end_turn`). */
export function openAIFinishToStopReason(finish: string | null | undefined): StopReason {
  switch (finish) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "content_filter";
    default:
      return "end_turn";
  }
}

/** Maps a {@link StopReason} to an OpenAI `finish_reason`. */
export function stopReasonToOpenAIFinish(reason: StopReason): string {
  switch (reason) {
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "content_filter":
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

/** Reads an OpenAI `usage` object (chat or Responses field names). */
function decodeUsage(u: unknown): Partial<Usage> | undefined {
  if (!isRecord(u)) return undefined;
  const usage: Partial<Usage> = {};
  const input = num(u.prompt_tokens) ?? num(u.input_tokens);
  const output = num(u.completion_tokens) ?? num(u.output_tokens);
  const cached = num(rec(u.prompt_tokens_details ?? u.input_tokens_details).cached_tokens);
  if (input !== undefined) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
  if (cached !== undefined) usage.cacheReadTokens = cached;
  return usage;
}

/** Text of a `content` that is a string or an array of text parts. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  return arr(content).map((p) => str(rec(p).text) ?? "").join("");
}

/** The choice with index 0 (or the first one). */
function firstChoice(body: Json): Json | undefined {
  const choices = arr(body.choices).filter(isRecord);
  return choices.find((c) => c.index === 0) ?? choices[0];
}

/**
 * Decodes a `chat.completion` object (choice 0). Reasoning is read from
 * `reasoning_content` (DeepSeek, vLLM) or `reasoning` (OpenRouter); a
 * `refusal` is kept as text when there is no content.
 */
export function decodeOpenAIChatJson(body: unknown): AnswerEvent[] {
  const b = rec(body);
  const out: AnswerEvent[] = [startEvent(b.id, b.model, b.created)];
  const choice = firstChoice(b) ?? {};
  const msg = rec(choice.message);
  const reasoning = str(msg.reasoning_content) ?? str(msg.reasoning);
  if (reasoning) out.push({ type: "reasoning", text: reasoning });
  const text = contentText(msg.content) || (str(msg.refusal) ?? "");
  if (text) out.push({ type: "text", text });
  arr(msg.tool_calls).filter(isRecord).forEach((tc, index) => {
    const fn = rec(tc.function);
    out.push({ type: "tool_call", index, id: str(tc.id) ?? "", name: str(fn.name) ?? "" });
    const args = str(fn.arguments) ?? "";
    if (args) out.push({ type: "tool_args", index, delta: args });
  });
  const usage = decodeUsage(b.usage);
  if (usage) out.push({ type: "usage", usage });
  const finish = str(choice.finish_reason);
  out.push({ type: "stop", reason: openAIFinishToStopReason(finish), ...unfinishedFlag(finish) });
  return out;
}

/**
 * Decodes a stream of `chat.completion.chunk` SSE events.
 *
 * The `stop` event is held until the stream is complete (`data: [DONE]` or
 * {@link OpenAIChatStreamDecoder.finish}), because the usage chunk arrives
 * after the chunk carrying `finish_reason`.
 */
export class OpenAIChatStreamDecoder {
  #started = false;
  #done = false;
  #finish: string | undefined;
  #opened = new Set<number>();
  #lastTool = -1;

  /** Whether the stream has terminated (`[DONE]` seen or {@link finish} called). */
  get done(): boolean {
    return this.#done;
  }

  /** Decodes one SSE event. Throws when the upstream sends an error object. */
  decode(ev: SseEvent): AnswerEvent[] {
    if (this.#done) return [];
    if (ev.data.trim() === "[DONE]") return this.finish();
    const chunk = parseSseJson(ev.data, "OpenAI chat");
    if (isRecord(chunk.error)) {
      throw new Error(`OpenAI chat stream error: ${str(chunk.error.message) ?? ev.data}`);
    }
    const out: AnswerEvent[] = [];
    if (!this.#started) {
      this.#started = true;
      out.push(startEvent(chunk.id, chunk.model, chunk.created));
    }
    const choice = firstChoice(chunk);
    if (choice) {
      const delta = rec(choice.delta);
      const reasoning = str(delta.reasoning_content) ?? str(delta.reasoning);
      if (reasoning) out.push({ type: "reasoning", text: reasoning });
      const text = str(delta.content);
      if (text) out.push({ type: "text", text });
      for (const tc of arr(delta.tool_calls).filter(isRecord)) this.#toolDelta(tc, out);
      const finish = str(choice.finish_reason);
      if (finish) this.#finish = finish;
    }
    const usage = decodeUsage(chunk.usage);
    if (usage) out.push({ type: "usage", usage });
    return out;
  }

  /** Signals the end of the byte stream; emits the held `stop` if a finish_reason was seen. */
  finish(): AnswerEvent[] {
    if (this.#done) return [];
    this.#done = true;
    if (this.#finish === undefined) return [];
    return [{
      type: "stop",
      reason: openAIFinishToStopReason(this.#finish),
      ...unfinishedFlag(this.#finish),
    }];
  }

  #toolDelta(tc: Json, out: AnswerEvent[]): void {
    const fn = rec(tc.function);
    const id = str(tc.id);
    const name = str(fn.name);
    // Some OpenAI-compatible servers omit `index`: a delta with an id opens the next call.
    let index = num(tc.index) ?? (id ? this.#opened.size : Math.max(this.#lastTool, 0));
    if (index < 0) index = 0;
    this.#lastTool = index;
    if (!this.#opened.has(index) && (id !== undefined || name !== undefined)) {
      this.#opened.add(index);
      out.push({ type: "tool_call", index, id: id ?? "", name: name ?? "" });
    }
    const args = str(fn.arguments);
    if (args) out.push({ type: "tool_args", index, delta: args });
  }
}

/** Encodes OpenAI usage; `cached_tokens` is always present, as OpenAI sends it. */
function encodeUsage(u: Partial<Usage>): Json {
  const input = u.inputTokens ?? 0;
  const output = u.outputTokens ?? 0;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens ?? 0 },
  };
}

/** Encodes a complete answer as a `chat.completion` object. */
export function encodeOpenAIChatJson(events: AnswerEvent[]): Record<string, unknown> {
  const a = collectAnswer(events);
  let text = "";
  let reasoning = "";
  const toolCalls: Json[] = [];
  for (const b of a.blocks) {
    if (b.kind === "text") text += b.text;
    else if (b.kind === "reasoning") reasoning += b.text;
    else {
      toolCalls.push({
        id: b.id,
        type: "function",
        function: { name: b.name, arguments: b.args },
      });
    }
  }
  const message: Json = {
    role: "assistant",
    content: text === "" && toolCalls.length > 0 ? null : text,
  };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  message.refusal = null;
  const out: Json = {
    id: a.id || randomId("chatcmpl-"),
    object: "chat.completion",
    created: a.created ?? nowSeconds(),
    model: a.model ?? "",
    choices: [{
      index: 0,
      message,
      logprobs: null,
      finish_reason: stopReasonToOpenAIFinish(stopReasonOf(a)),
    }],
  };
  if (a.usage) out.usage = encodeUsage(a.usage);
  return out;
}

/** Options of {@link OpenAIChatStreamEncoder}. */
export interface OpenAIChatStreamEncoderOptions {
  /** The client asked for `stream_options.include_usage`: send a final usage chunk. */
  includeUsage: boolean;
}

/**
 * Encodes events as `chat.completion.chunk` SSE events, shaped like OpenAI's:
 * a role chunk, content / tool call chunks, a finish chunk with an empty delta,
 * the usage chunk (`choices: []`, when asked for), then `data: [DONE]`.
 * Usage is buffered until the finish chunk, since events may carry it earlier.
 */
export class OpenAIChatStreamEncoder {
  #includeUsage: boolean;
  #id = "";
  #model = "";
  #created = 0;
  #started = false;
  #finished = false;
  #usage: Partial<Usage> = {};

  /** Creates an encoder for one answer. */
  constructor(opts: OpenAIChatStreamEncoderOptions) {
    this.#includeUsage = opts.includeUsage;
  }

  /** Encodes one event into zero or more SSE events. */
  encode(ev: AnswerEvent): SseEvent[] {
    if (this.#finished) return [];
    const out: SseEvent[] = [];
    if (ev.type === "start" && !this.#started) {
      this.#id = ev.id || randomId("chatcmpl-");
      this.#model = ev.model;
      this.#created = ev.created ?? nowSeconds();
    }
    if (!this.#started) {
      this.#started = true;
      if (!this.#id) this.#id = randomId("chatcmpl-");
      if (!this.#created) this.#created = nowSeconds();
      out.push(this.#chunk({ role: "assistant", content: "" }));
    }
    switch (ev.type) {
      case "text":
        if (ev.text) out.push(this.#chunk({ content: ev.text }));
        break;
      case "reasoning":
        if (ev.text) out.push(this.#chunk({ reasoning_content: ev.text }));
        break;
      case "tool_call":
        out.push(this.#chunk({
          tool_calls: [{
            index: ev.index,
            id: ev.id,
            type: "function",
            function: { name: ev.name, arguments: "" },
          }],
        }));
        break;
      case "tool_args":
        if (ev.delta) {
          out.push(this.#chunk({
            tool_calls: [{ index: ev.index, function: { arguments: ev.delta } }],
          }));
        }
        break;
      case "usage":
        this.#usage = mergeUsage(this.#usage, ev.usage);
        break;
      case "stop":
        this.#finished = true;
        out.push(this.#chunk({}, stopReasonToOpenAIFinish(ev.reason)));
        if (this.#includeUsage) {
          out.push(this.#data({ choices: [], usage: encodeUsage(this.#usage) }));
        }
        out.push({ data: "[DONE]" });
        break;
    }
    return out;
  }

  #chunk(delta: Json, finish: string | null = null): SseEvent {
    const body: Json = { choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
    if (this.#includeUsage) body.usage = null;
    return this.#data(body);
  }

  #data(rest: Json): SseEvent {
    const body = {
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: this.#model,
      ...rest,
    };
    return { data: JSON.stringify(body) };
  }
}

/** An OpenAI-style error body: `{ error: { message, type, param, code } }`. */
export function openAIErrorBody(
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message, type, param, code } };
}
