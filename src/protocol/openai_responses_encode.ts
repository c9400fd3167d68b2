/**
 * OpenAI Responses API: encoding answer events as a `response` object or as
 * the Responses SSE sequence. Re-exported by `openai_responses.ts`.
 *
 * @module
 */

import type { AnswerEvent, SseEvent, StopReason, Usage } from "./events.ts";
import { arr, collectAnswer, type Json, mergeUsage, nowSeconds, randomId } from "./_shared.ts";

/** The Responses `status` and `incomplete_details` for a {@link StopReason}. */
export function stopReasonToResponsesStatus(
  reason: StopReason,
): { status: "completed" | "incomplete"; incomplete_details: { reason: string } | null } {
  if (reason === "max_tokens") {
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  }
  if (reason === "content_filter" || reason === "refusal") {
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  }
  return { status: "completed", incomplete_details: null };
}

function encodeUsage(u: Partial<Usage>): Json {
  const input = u.inputTokens ?? 0;
  const output = u.outputTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheReadTokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

/** Fields of a response object that describe the answer rather than echo the request. */
function responseObject(
  id: string,
  model: string,
  createdAt: number,
  output: Json[],
  stop: StopReason | undefined,
  usage: Partial<Usage> | undefined,
): Json {
  const status = stop ? stopReasonToResponsesStatus(stop) : {
    status: "in_progress",
    incomplete_details: null,
  };
  return {
    id,
    object: "response",
    created_at: createdAt,
    ...status,
    error: null,
    model,
    output,
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
    usage: usage ? encodeUsage(usage) : null,
  };
}

const outputText = (text: string): Json => ({ type: "output_text", text, annotations: [] });
const summaryText = (text: string): Json => ({ type: "summary_text", text });

/** Encodes a complete answer as a `response` object. */
export function encodeResponsesJson(events: AnswerEvent[]): Record<string, unknown> {
  const a = collectAnswer(events);
  const output: Json[] = [];
  for (const b of a.blocks) {
    const prev = output[output.length - 1];
    if (b.kind === "reasoning") {
      if (!b.text) continue;
      if (prev?.type === "reasoning") arr(prev.summary).push(summaryText(b.text));
      else output.push({ id: randomId("rs_"), type: "reasoning", summary: [summaryText(b.text)] });
    } else if (b.kind === "text") {
      output.push({
        id: randomId("msg_"),
        type: "message",
        status: "completed",
        role: "assistant",
        content: [outputText(b.text)],
      });
    } else {
      output.push({
        id: randomId("fc_"),
        type: "function_call",
        status: "completed",
        arguments: b.args,
        call_id: b.id,
        name: b.name,
      });
    }
  }
  const hasCalls = a.blocks.some((b) => b.kind === "tool");
  const stop = a.stop?.reason ?? (hasCalls ? "tool_use" : "end_turn");
  return responseObject(
    a.id || randomId("resp_"),
    a.model ?? "",
    a.created ?? nowSeconds(),
    output,
    stop,
    a.usage,
  );
}

type OpenItem = {
  kind: "message" | "reasoning" | "function_call";
  outputIndex: number;
  id: string;
  text: string;
  callId?: string;
  name?: string;
};

/**
 * Encodes events as the Responses SSE sequence: `response.created`,
 * `response.in_progress`, then per output item `output_item.added`, its part /
 * delta / done events and `output_item.done`, and finally `response.completed`
 * (or `response.incomplete` when the answer was cut short, as OpenAI does)
 * with the whole response object. Every event carries `sequence_number`.
 */
export class ResponsesStreamEncoder {
  #seq = 0;
  #id = "";
  #model = "";
  #createdAt = 0;
  #started = false;
  #stopped = false;
  #usage: Partial<Usage> | undefined;
  #output: Json[] = [];
  #open: OpenItem | undefined;
  #calls = new Map<number, OpenItem>();

  /** Encodes one event into zero or more SSE events. */
  encode(ev: AnswerEvent): SseEvent[] {
    if (this.#stopped) return [];
    const out: SseEvent[] = [];
    if (ev.type === "start" && !this.#started) {
      this.#id = ev.id;
      this.#model = ev.model;
      if (ev.created !== undefined) this.#createdAt = ev.created;
    }
    if (ev.type === "usage") {
      this.#usage = mergeUsage(this.#usage ?? {}, ev.usage);
      return out;
    }
    this.#ensureStarted(out);
    switch (ev.type) {
      case "text":
        if (!ev.text) break;
        if (this.#open?.kind !== "message") this.#openItem("message", out);
        this.#appendText(ev.text, out);
        break;
      case "reasoning":
        if (!ev.text) break;
        if (this.#open?.kind !== "reasoning") this.#openItem("reasoning", out);
        this.#appendText(ev.text, out);
        break;
      case "tool_call": {
        const item = this.#openItem("function_call", out, ev.id, ev.name);
        this.#calls.set(ev.index, item);
        break;
      }
      case "tool_args": {
        const item = this.#calls.get(ev.index);
        if (!item || !ev.delta) break;
        item.text += ev.delta;
        const { id: item_id, outputIndex: output_index } = item;
        out.push(
          this.#event("response.function_call_arguments.delta", {
            item_id,
            output_index,
            delta: ev.delta,
          }),
        );
        // A call whose item was already closed: keep the final response object right.
        if (item !== this.#open) this.#output[item.outputIndex] = this.#finalItem(item);
        break;
      }
      case "stop": {
        this.#closeItem(out);
        this.#stopped = true;
        const response = this.#response(ev.reason);
        const type = response.status === "incomplete"
          ? "response.incomplete"
          : "response.completed";
        out.push(this.#event(type, { response }));
        break;
      }
    }
    return out;
  }

  #response(stop: StopReason | undefined): Json {
    const usage = stop ? this.#usage : undefined;
    return responseObject(this.#id, this.#model, this.#createdAt, this.#output, stop, usage);
  }

  #ensureStarted(out: SseEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    if (!this.#id) this.#id = randomId("resp_");
    if (!this.#createdAt) this.#createdAt = nowSeconds();
    out.push(this.#event("response.created", { response: this.#response(undefined) }));
    out.push(this.#event("response.in_progress", { response: this.#response(undefined) }));
  }

  #openItem(kind: OpenItem["kind"], out: SseEvent[], callId?: string, name?: string): OpenItem {
    this.#closeItem(out);
    const prefix = kind === "message" ? "msg_" : kind === "reasoning" ? "rs_" : "fc_";
    const item: OpenItem = {
      kind,
      outputIndex: this.#output.length,
      id: randomId(prefix),
      text: "",
    };
    if (kind === "function_call") Object.assign(item, { callId, name });
    this.#open = item;
    const added: Json = kind === "message"
      ? { id: item.id, type: "message", status: "in_progress", role: "assistant", content: [] }
      : kind === "reasoning"
      ? { id: item.id, type: "reasoning", summary: [] }
      : {
        id: item.id,
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: callId,
        name,
      };
    this.#output.push(added);
    const at = { item_id: item.id, output_index: item.outputIndex };
    out.push(
      this.#event("response.output_item.added", { output_index: item.outputIndex, item: added }),
    );
    if (kind === "message") {
      out.push(
        this.#event("response.content_part.added", {
          ...at,
          content_index: 0,
          part: outputText(""),
        }),
      );
    } else if (kind === "reasoning") {
      out.push(
        this.#event("response.reasoning_summary_part.added", {
          ...at,
          summary_index: 0,
          part: summaryText(""),
        }),
      );
    }
    return item;
  }

  #appendText(delta: string, out: SseEvent[]): void {
    const item = this.#open;
    if (!item) return;
    item.text += delta;
    const at = { item_id: item.id, output_index: item.outputIndex };
    out.push(
      item.kind === "message"
        ? this.#event("response.output_text.delta", {
          ...at,
          content_index: 0,
          delta,
          logprobs: [],
        })
        : this.#event("response.reasoning_summary_text.delta", { ...at, summary_index: 0, delta }),
    );
  }

  #finalItem(item: OpenItem): Json {
    if (item.kind === "message") {
      return {
        id: item.id,
        type: "message",
        status: "completed",
        role: "assistant",
        content: [outputText(item.text)],
      };
    }
    if (item.kind === "reasoning") {
      return { id: item.id, type: "reasoning", summary: [summaryText(item.text)] };
    }
    return {
      id: item.id,
      type: "function_call",
      status: "completed",
      arguments: item.text,
      call_id: item.callId,
      name: item.name,
    };
  }

  #closeItem(out: SseEvent[]): void {
    const item = this.#open;
    if (!item) return;
    this.#open = undefined;
    const at = { item_id: item.id, output_index: item.outputIndex };
    const text = item.text;
    if (item.kind === "message") {
      out.push(
        this.#event("response.output_text.done", { ...at, content_index: 0, text, logprobs: [] }),
      );
      out.push(
        this.#event("response.content_part.done", {
          ...at,
          content_index: 0,
          part: outputText(text),
        }),
      );
    } else if (item.kind === "reasoning") {
      out.push(
        this.#event("response.reasoning_summary_text.done", { ...at, summary_index: 0, text }),
      );
      out.push(
        this.#event("response.reasoning_summary_part.done", {
          ...at,
          summary_index: 0,
          part: summaryText(text),
        }),
      );
    } else {
      out.push(this.#event("response.function_call_arguments.done", { ...at, arguments: text }));
    }
    const final = this.#finalItem(item);
    this.#output[item.outputIndex] = final;
    out.push(
      this.#event("response.output_item.done", { output_index: item.outputIndex, item: final }),
    );
  }

  #event(type: string, fields: Json): SseEvent {
    const data = { type, sequence_number: this.#seq++, ...fields };
    return { event: type, data: JSON.stringify(data) };
  }
}
