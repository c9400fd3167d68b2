/**
 * Anthropic Messages: decoding upstream answers (JSON and SSE) into
 * {@link AnswerEvent}s and encoding events back into the same wire shapes.
 *
 * Usage convention: events carry `inputTokens` as the whole prompt, cached
 * tokens included (the OpenAI convention), so that usage means the same thing
 * whatever the protocol. Anthropic's `input_tokens` excludes cache reads and
 * writes, so the decoders add them and the encoders subtract them again.
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
  num,
  parseJsonObject,
  parseSseJson,
  randomId,
  rec,
  startEvent,
  stopReasonOf,
  str,
} from "./_shared.ts";

const STOP_REASONS: ReadonlySet<string> = new Set<StopReason>([
  "end_turn",
  "max_tokens",
  "tool_use",
  "stop_sequence",
  "content_filter",
  "refusal",
  "pause_turn",
]);

/** Maps an Anthropic `stop_reason` to a {@link StopReason} (unknown values → `end_turn`). */
export function anthropicStopReasonToStopReason(reason: string | null | undefined): StopReason {
  if (reason === "model_context_window_exceeded") return "max_tokens";
  return reason && STOP_REASONS.has(reason) ? reason as StopReason : "end_turn";
}

/** Maps a {@link StopReason} to an Anthropic `stop_reason` (`content_filter` → `refusal`). */
export function stopReasonToAnthropic(reason: StopReason): string {
  return reason === "content_filter" ? "refusal" : reason;
}

/** Reads an Anthropic usage object (normalizing `inputTokens` to include cache tokens). */
function decodeUsage(u: unknown): Partial<Usage> | undefined {
  if (!isRecord(u)) return undefined;
  const usage: Partial<Usage> = {};
  const input = num(u.input_tokens);
  const read = num(u.cache_read_input_tokens);
  const write = num(u.cache_creation_input_tokens);
  if (input !== undefined) usage.inputTokens = input + (read ?? 0) + (write ?? 0);
  if (read !== undefined) usage.cacheReadTokens = read;
  if (write !== undefined) usage.cacheWriteTokens = write;
  const output = num(u.output_tokens);
  if (output !== undefined) usage.outputTokens = output;
  return Object.keys(usage).length > 0 ? usage : undefined;
}

/** Encodes usage fields the Anthropic way (`input_tokens` without cache tokens). */
function encodeInputUsage(u: Partial<Usage>): Json {
  const read = u.cacheReadTokens;
  const write = u.cacheWriteTokens;
  const out: Json = {
    input_tokens: Math.max(0, (u.inputTokens ?? 0) - (read ?? 0) - (write ?? 0)),
  };
  if (write !== undefined) out.cache_creation_input_tokens = write;
  if (read !== undefined) out.cache_read_input_tokens = read;
  return out;
}

/** Decodes an Anthropic `message` object. `redacted_thinking` blocks are dropped. */
export function decodeAnthropicJson(body: unknown): AnswerEvent[] {
  const b = rec(body);
  const out: AnswerEvent[] = [startEvent(b.id, b.model)];
  let toolIndex = 0;
  for (const block of arr(b.content).filter(isRecord)) {
    if (block.type === "thinking") {
      const ev: AnswerEvent = { type: "reasoning", text: str(block.thinking) ?? "" };
      const signature = str(block.signature);
      if (signature !== undefined) ev.signature = signature;
      out.push(ev);
    } else if (block.type === "text") {
      out.push({ type: "text", text: str(block.text) ?? "" });
    } else if (block.type === "tool_use") {
      const index = toolIndex++;
      out.push({ type: "tool_call", index, id: str(block.id) ?? "", name: str(block.name) ?? "" });
      out.push({ type: "tool_args", index, delta: JSON.stringify(block.input ?? {}) });
    }
  }
  const usage = decodeUsage(b.usage);
  if (usage) out.push({ type: "usage", usage });
  out.push({
    type: "stop",
    reason: anthropicStopReasonToStopReason(str(b.stop_reason)),
    stopSequence: str(b.stop_sequence) ?? null,
    ...unfinishedFlag(str(b.stop_reason)),
  });
  return out;
}

/** Decodes an Anthropic Messages SSE stream. Throws on an `error` event. */
export class AnthropicStreamDecoder {
  #toolIndexOfBlock = new Map<number, number>();
  #tools = 0;
  #stop: { reason: string | undefined; sequence: string | null } | undefined;
  #stopped = false;
  #cache: { read?: number; write?: number } = {};

  /** Decodes one SSE event. */
  decode(ev: SseEvent): AnswerEvent[] {
    if (this.#stopped) return [];
    const data = parseSseJson(ev.data, "Anthropic");
    const type = str(data.type) ?? ev.event;
    const out: AnswerEvent[] = [];
    switch (type) {
      case "message_start": {
        const msg = rec(data.message);
        out.push(startEvent(msg.id, msg.model));
        const usage = decodeUsage(msg.usage);
        if (usage) {
          this.#cache = { read: usage.cacheReadTokens, write: usage.cacheWriteTokens };
          out.push({ type: "usage", usage });
        }
        break;
      }
      case "content_block_start": {
        const block = rec(data.content_block);
        const blockIndex = num(data.index) ?? 0;
        if (block.type === "tool_use") {
          const index = this.#tools++;
          this.#toolIndexOfBlock.set(blockIndex, index);
          out.push({
            type: "tool_call",
            index,
            id: str(block.id) ?? "",
            name: str(block.name) ?? "",
          });
        } else if (block.type === "text" && str(block.text)) {
          out.push({ type: "text", text: str(block.text) ?? "" });
        } else if (block.type === "thinking" && str(block.thinking)) {
          out.push({ type: "reasoning", text: str(block.thinking) ?? "" });
        }
        break;
      }
      case "content_block_delta": {
        const delta = rec(data.delta);
        const text = str(delta.text) ?? str(delta.thinking) ?? str(delta.partial_json) ?? "";
        if (delta.type === "text_delta" && text) out.push({ type: "text", text });
        else if (delta.type === "thinking_delta" && text) out.push({ type: "reasoning", text });
        else if (delta.type === "signature_delta") {
          out.push({ type: "reasoning", text: "", signature: str(delta.signature) ?? "" });
        } else if (delta.type === "input_json_delta" && text) {
          const index = this.#toolIndexOfBlock.get(num(data.index) ?? -1);
          if (index !== undefined) out.push({ type: "tool_args", index, delta: text });
        }
        break;
      }
      case "message_delta": {
        const delta = rec(data.delta);
        this.#stop = { reason: str(delta.stop_reason), sequence: str(delta.stop_sequence) ?? null };
        const u = rec(data.usage);
        const usage: Partial<Usage> = {};
        const output = num(u.output_tokens);
        if (output !== undefined) usage.outputTokens = output;
        // Newer API versions repeat the input counts here, possibly without the cache fields.
        if (num(u.input_tokens) !== undefined) {
          Object.assign(
            usage,
            decodeUsage({
              input_tokens: u.input_tokens,
              cache_read_input_tokens: num(u.cache_read_input_tokens) ?? this.#cache.read,
              cache_creation_input_tokens: num(u.cache_creation_input_tokens) ?? this.#cache.write,
            }),
          );
        }
        if (Object.keys(usage).length > 0) out.push({ type: "usage", usage });
        break;
      }
      case "message_stop":
        out.push(...this.#emitStop());
        break;
      case "error": {
        const err = rec(data.error);
        throw new Error(
          `Anthropic stream error: ${str(err.type) ?? "error"}: ${str(err.message) ?? ev.data}`,
        );
      }
    }
    return out;
  }

  /** Signals the end of the byte stream: emits `stop` if `message_delta` came but `message_stop` did not. */
  finish(): AnswerEvent[] {
    if (this.#stopped || !this.#stop) return [];
    return this.#emitStop();
  }

  #emitStop(): AnswerEvent[] {
    this.#stopped = true;
    return [{
      type: "stop",
      reason: anthropicStopReasonToStopReason(this.#stop?.reason),
      stopSequence: this.#stop?.sequence ?? null,
      ...unfinishedFlag(this.#stop?.reason),
    }];
  }
}

/** Encodes a complete answer as an Anthropic `message` object. */
export function encodeAnthropicJson(events: AnswerEvent[]): Record<string, unknown> {
  const a = collectAnswer(events);
  const content = a.blocks.map((b): Json => {
    if (b.kind === "text") return { type: "text", text: b.text };
    if (b.kind === "reasoning") {
      return { type: "thinking", thinking: b.text, signature: b.signature ?? "" };
    }
    return { type: "tool_use", id: b.id, name: b.name, input: parseJsonObject(b.args) };
  });
  const usage = a.usage ?? {};
  return {
    id: a.id || randomId("msg_"),
    type: "message",
    role: "assistant",
    model: a.model ?? "",
    content,
    stop_reason: stopReasonToAnthropic(stopReasonOf(a)),
    stop_sequence: a.stop?.stopSequence ?? null,
    usage: { ...encodeInputUsage(usage), output_tokens: usage.outputTokens ?? 0 },
  };
}

type OpenBlock = { kind: "text" | "thinking" | "tool"; index: number; signed?: boolean };

/**
 * Encodes events as the Anthropic SSE sequence: `message_start`, then
 * `content_block_start` / `content_block_delta`* / `content_block_stop` per
 * block (a `ping` after the first block start, as Anthropic does),
 * `message_delta` and `message_stop`.
 *
 * `message_start` is deferred to the first content (or stop) so that it
 * carries the input usage when the upstream reported it right after start;
 * input usage learned later is repeated in `message_delta`, as the current API
 * does. Arguments for a tool call whose block was already closed are sent on
 * that block's index anyway (clients accumulate by index).
 */
export class AnthropicStreamEncoder {
  #id = "";
  #model = "";
  #started = false;
  #stopped = false;
  #pinged = false;
  #usage: Partial<Usage> = {};
  #lateInput = false;
  #next = 0;
  #open: OpenBlock | undefined;
  #toolBlocks = new Map<number, number>();

  /** Encodes one event into zero or more SSE events. */
  encode(ev: AnswerEvent): SseEvent[] {
    if (this.#stopped) return [];
    const out: SseEvent[] = [];
    switch (ev.type) {
      case "start":
        this.#id = ev.id;
        this.#model = ev.model;
        return out;
      case "usage":
        this.#usage = mergeUsage(this.#usage, ev.usage);
        if (this.#started && ev.usage.inputTokens !== undefined) this.#lateInput = true;
        return out;
    }
    this.#ensureStarted(out);
    switch (ev.type) {
      case "text":
        if (!ev.text) break;
        if (this.#open?.kind !== "text") this.#openBlock("text", { type: "text", text: "" }, out);
        this.#delta({ type: "text_delta", text: ev.text }, out);
        break;
      case "reasoning": {
        const open = this.#open;
        if (open?.kind !== "thinking" || (open.signed && ev.text)) {
          this.#openBlock("thinking", { type: "thinking", thinking: "" }, out);
        }
        if (ev.text) this.#delta({ type: "thinking_delta", thinking: ev.text }, out);
        if (ev.signature !== undefined) {
          this.#delta({ type: "signature_delta", signature: ev.signature }, out);
          if (this.#open) this.#open.signed = true;
        }
        break;
      }
      case "tool_call":
        this.#openBlock("tool", { type: "tool_use", id: ev.id, name: ev.name, input: {} }, out);
        this.#toolBlocks.set(ev.index, this.#open?.index ?? 0);
        // Anthropic always opens tool input with an empty JSON delta.
        this.#delta({ type: "input_json_delta", partial_json: "" }, out);
        break;
      case "tool_args": {
        const index = this.#toolBlocks.get(ev.index);
        if (index === undefined || !ev.delta) break;
        const delta = { type: "input_json_delta", partial_json: ev.delta };
        out.push(this.#event({ type: "content_block_delta", index, delta }));
        break;
      }
      case "stop": {
        this.#closeBlock(out);
        this.#stopped = true;
        const usage: Json = this.#lateInput ? encodeInputUsage(this.#usage) : {};
        usage.output_tokens = this.#usage.outputTokens ?? 0;
        out.push(this.#event({
          type: "message_delta",
          delta: {
            stop_reason: stopReasonToAnthropic(ev.reason),
            stop_sequence: ev.stopSequence ?? null,
          },
          usage,
        }));
        out.push(this.#event({ type: "message_stop" }));
        break;
      }
    }
    return out;
  }

  #ensureStarted(out: SseEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    const usage: Json = this.#usage.inputTokens !== undefined
      ? encodeInputUsage(this.#usage)
      : { input_tokens: 0 };
    this.#lateInput = false;
    usage.output_tokens = this.#usage.outputTokens ?? 0;
    out.push(this.#event({
      type: "message_start",
      message: {
        id: this.#id || randomId("msg_"),
        type: "message",
        role: "assistant",
        model: this.#model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage,
      },
    }));
  }

  #openBlock(kind: OpenBlock["kind"], contentBlock: Json, out: SseEvent[]): void {
    this.#closeBlock(out);
    this.#open = { kind, index: this.#next++ };
    out.push(this.#event({
      type: "content_block_start",
      index: this.#open.index,
      content_block: contentBlock,
    }));
    if (!this.#pinged) {
      this.#pinged = true;
      out.push(this.#event({ type: "ping" }));
    }
  }

  #closeBlock(out: SseEvent[]): void {
    if (!this.#open) return;
    out.push(this.#event({ type: "content_block_stop", index: this.#open.index }));
    this.#open = undefined;
  }

  #delta(delta: Json, out: SseEvent[]): void {
    if (this.#open) {
      out.push(this.#event({ type: "content_block_delta", index: this.#open.index, delta }));
    }
  }

  #event(data: Json & { type: string }): SseEvent {
    return { event: data.type, data: JSON.stringify(data) };
  }
}

/** An Anthropic error body: `{ type: "error", error: { type, message } }`. */
export function anthropicErrorBody(
  type: string,
  message: string,
): { type: "error"; error: { type: string; message: string } } {
  return { type: "error", error: { type, message } };
}

/** The Anthropic error type for an HTTP status. */
export function anthropicErrorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
  }
  return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
}
