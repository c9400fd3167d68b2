/**
 * OpenAI Responses API (used by Codex CLI): decoding upstream answers (JSON
 * and SSE) into {@link AnswerEvent}s and encoding events back.
 *
 * Only what an answer needs is covered: `message` items (output text),
 * `function_call` items and `reasoning` summaries. Usage: `inputTokens` is the
 * whole prompt, cached tokens included, as the Responses API counts it.
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
import { arr, isRecord, type Json, num, parseSseJson, rec, startEvent, str } from "./_shared.ts";

export {
  encodeResponsesJson,
  ResponsesStreamEncoder,
  stopReasonToResponsesStatus,
} from "./openai_responses_encode.ts";

/** The {@link StopReason} of a response object, given whether it contains function calls. */
export function responsesStopReason(response: unknown, hasFunctionCalls: boolean): StopReason {
  const r = rec(response);
  if (r.status === "incomplete") {
    const reason = str(rec(r.incomplete_details).reason);
    return reason === "content_filter" ? "content_filter" : "max_tokens";
  }
  return hasFunctionCalls ? "tool_use" : "end_turn";
}

/** The native finish of a response object: its `status`, or why it is `incomplete`. */
function responsesNative(response: unknown): string | undefined {
  const r = rec(response);
  return r.status === "incomplete" ? str(rec(r.incomplete_details).reason) : str(r.status);
}

function decodeUsage(u: unknown): Partial<Usage> | undefined {
  if (!isRecord(u)) return undefined;
  const usage: Partial<Usage> = {};
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  const cached = num(rec(u.input_tokens_details).cached_tokens);
  if (input !== undefined) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
  if (cached !== undefined) usage.cacheReadTokens = cached;
  return usage;
}

/** Decodes a `response` object: reasoning summaries, output text, function calls, usage, stop. */
export function decodeResponsesJson(body: unknown): AnswerEvent[] {
  const b = rec(body);
  const out: AnswerEvent[] = [startEvent(b.id, b.model, b.created_at)];
  let tools = 0;
  for (const item of arr(b.output).filter(isRecord)) {
    if (item.type === "reasoning") {
      for (const part of arr(item.summary).filter(isRecord)) {
        const text = str(part.text);
        if (text) out.push({ type: "reasoning", text });
      }
    } else if (item.type === "message") {
      for (const part of arr(item.content).filter(isRecord)) {
        const text = str(part.text) ?? str(part.refusal);
        if (text) out.push({ type: "text", text });
      }
    } else if (item.type === "function_call") {
      const index = tools++;
      out.push({
        type: "tool_call",
        index,
        id: str(item.call_id) ?? "",
        name: str(item.name) ?? "",
      });
      const args = str(item.arguments);
      if (args) out.push({ type: "tool_args", index, delta: args });
    }
  }
  const usage = decodeUsage(b.usage);
  if (usage) out.push({ type: "usage", usage });
  out.push({
    type: "stop",
    reason: responsesStopReason(b, tools > 0),
    ...unfinishedFlag(responsesNative(b)),
  });
  return out;
}

/** Decodes a Responses SSE stream. Throws on `response.failed` and `error` events. */
export class ResponsesStreamDecoder {
  #tools = new Map<string, { index: number; gotArgs: boolean }>();
  #done = false;

  /** Whether the terminal event (`response.completed` / `response.incomplete`) was seen. */
  get done(): boolean {
    return this.#done;
  }

  /** Decodes one SSE event. */
  decode(ev: SseEvent): AnswerEvent[] {
    if (this.#done) return [];
    const data = parseSseJson(ev.data, "OpenAI Responses");
    const out: AnswerEvent[] = [];
    switch (str(data.type) ?? ev.event) {
      case "response.created": {
        const response = rec(data.response);
        out.push(startEvent(response.id, response.model, response.created_at));
        break;
      }
      case "response.output_item.added": {
        const item = rec(data.item);
        if (item.type !== "function_call") break;
        const index = this.#tools.size;
        this.#tools.set(this.#key(data), { index, gotArgs: false });
        out.push({
          type: "tool_call",
          index,
          id: str(item.call_id) ?? "",
          name: str(item.name) ?? "",
        });
        this.#args(data, str(item.arguments), out);
        break;
      }
      case "response.output_text.delta":
      case "response.refusal.delta": {
        const text = str(data.delta);
        if (text) out.push({ type: "text", text });
        break;
      }
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        const text = str(data.delta);
        if (text) out.push({ type: "reasoning", text });
        break;
      }
      case "response.function_call_arguments.delta":
        this.#args(data, str(data.delta), out);
        break;
      case "response.function_call_arguments.done":
        // Only used when the upstream sent no deltas at all.
        if (this.#tools.get(this.#key(data))?.gotArgs === false) {
          this.#args(data, str(data.arguments), out);
        }
        break;
      case "response.completed":
      case "response.incomplete": {
        this.#done = true;
        const response = rec(data.response);
        const usage = decodeUsage(response.usage);
        if (usage) out.push({ type: "usage", usage });
        out.push({
          type: "stop",
          reason: responsesStopReason(response, this.#tools.size > 0),
          ...unfinishedFlag(responsesNative(response)),
        });
        break;
      }
      case "response.failed": {
        const err = rec(rec(data.response).error);
        throw new Error(`OpenAI Responses stream failed: ${str(err.message) ?? ev.data}`);
      }
      case "error":
        throw new Error(
          `OpenAI Responses stream error: ${
            str(data.message) ?? str(rec(data.error).message) ?? ev.data
          }`,
        );
    }
    return out;
  }

  /** Signals the end of the byte stream. Nothing is held back, so this returns no events. */
  finish(): AnswerEvent[] {
    this.#done = true;
    return [];
  }

  /** Function call items are keyed by output index (present on every event), else item id. */
  #key(data: Json): string {
    const outputIndex = num(data.output_index);
    if (outputIndex !== undefined) return `#${outputIndex}`;
    return str(data.item_id) ?? str(rec(data.item).id) ?? "";
  }

  #args(data: Json, delta: string | undefined, out: AnswerEvent[]): void {
    const tool = this.#tools.get(this.#key(data));
    if (!tool || !delta) return;
    tool.gotArgs = true;
    out.push({ type: "tool_args", index: tool.index, delta });
  }
}
