/**
 * Request body translation between the wire protocols, for when a client and
 * its upstream speak different ones. Pure functions on parsed JSON bodies:
 * they build new objects and never mutate their input.
 *
 * @module
 */

import {
  arr,
  isRecord,
  joinText,
  type Json,
  num,
  parseJsonObject,
  put,
  rec,
  str,
  TranslationError,
} from "./_shared.ts";

export { TranslationError };
export { responsesToOpenAIChat } from "./translate_responses_request.ts";

// ---------------------------------------------------------------------------
// Anthropic Messages → OpenAI Chat Completions

/** An Anthropic image/document `source` as a URL (data URL for base64). */
function sourceUrl(source: unknown): string | undefined {
  const s = rec(source);
  if (s.type === "base64") return `data:${str(s.media_type) ?? ""};base64,${str(s.data) ?? ""}`;
  if (s.type === "url") return str(s.url);
  return undefined;
}

/** An Anthropic user content block as an OpenAI content part (undefined: not representable). */
function userPart(block: Json): Json | undefined {
  if (block.type === "text") return { type: "text", text: str(block.text) ?? "" };
  if (block.type === "image") {
    const url = sourceUrl(block.source);
    return url ? { type: "image_url", image_url: { url } } : undefined;
  }
  if (block.type === "document") {
    const source = rec(block.source);
    if (source.type === "text") return { type: "text", text: str(source.data) ?? "" };
    const url = source.type === "base64" ? sourceUrl(source) : undefined;
    const filename = str(block.title) ?? "document.pdf";
    return url ? { type: "file", file: { filename, file_data: url } } : undefined;
  }
  return undefined;
}

/** A user message: tool results first (one `tool` message each), then the rest. */
function userToChat(content: unknown): Json[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const tools: Json[] = [];
  const parts: Json[] = [];
  for (const block of arr(content).filter(isRecord)) {
    if (block.type === "tool_result") {
      tools.push({
        role: "tool",
        tool_call_id: str(block.tool_use_id) ?? "",
        content: joinText(block.content, "\n"),
      });
      // Tool messages carry text only: images of a tool result follow as user content.
      for (const inner of arr(block.content).filter(isRecord)) {
        const part = inner.type === "image" ? userPart(inner) : undefined;
        if (part) parts.push(part);
      }
    } else {
      const part = userPart(block);
      if (part) parts.push(part);
    }
  }
  if (parts.length === 0) return tools.length > 0 ? tools : [{ role: "user", content: "" }];
  const single = parts.length === 1 && parts[0].type === "text";
  return [...tools, { role: "user", content: single ? parts[0].text : parts }];
}

/** An assistant message: text blocks joined, tool_use → tool_calls, thinking dropped. */
function assistantToChat(content: unknown): Json {
  if (typeof content === "string") return { role: "assistant", content };
  const texts: string[] = [];
  const toolCalls: Json[] = [];
  for (const block of arr(content).filter(isRecord)) {
    if (block.type === "text") texts.push(str(block.text) ?? "");
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: str(block.id) ?? "",
        type: "function",
        function: { name: str(block.name) ?? "", arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const msg: Json = {
    role: "assistant",
    content: texts.length > 0 ? texts.join("\n\n") : toolCalls.length > 0 ? null : "",
  };
  if (toolCalls.length > 0) msg.tool_calls = toolCalls;
  return msg;
}

/**
 * Translates an Anthropic Messages request into an OpenAI Chat Completions one.
 *
 * A `system` message in the list (Anthropic's mid-conversation system
 * messages) becomes a chat system message in place.
 *
 * Dropped: `top_k`, `thinking`, `cache_control` markers, thinking blocks,
 * server tools (tools without `input_schema`), `metadata` other than `user_id`.
 * Multiple system blocks, and multiple assistant text blocks, are joined with
 * a blank line.
 */
export function anthropicToOpenAIChat(body: unknown): Record<string, unknown> {
  const b = rec(body);
  const messages: Json[] = [];
  const system = joinText(b.system, "\n\n");
  if (system) messages.push({ role: "system", content: system });
  for (const m of arr(b.messages).filter(isRecord)) {
    if (m.role === "assistant") messages.push(assistantToChat(m.content));
    // A mid-conversation system message (beta `mid-conversation-system-*`) stays in place.
    else if (m.role === "system") {
      messages.push({ role: "system", content: joinText(m.content, "\n\n") });
    } else messages.push(...userToChat(m.content));
  }
  const out: Json = {};
  put(out, "model", b.model);
  out.messages = messages;
  const tools = arr(b.tools).filter(isRecord).filter((t) => isRecord(t.input_schema));
  if (tools.length > 0) {
    out.tools = tools.map((t) => {
      const fn: Json = { name: str(t.name) ?? "" };
      put(fn, "description", str(t.description));
      fn.parameters = t.input_schema;
      return { type: "function", function: fn };
    });
  }
  const choice = rec(b.tool_choice);
  if (choice.type === "auto") out.tool_choice = "auto";
  else if (choice.type === "any") out.tool_choice = "required";
  else if (choice.type === "none") out.tool_choice = "none";
  else if (choice.type === "tool") {
    out.tool_choice = { type: "function", function: { name: str(choice.name) ?? "" } };
  }
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  put(out, "max_tokens", num(b.max_tokens));
  put(out, "temperature", num(b.temperature));
  put(out, "top_p", num(b.top_p));
  const stop = arr(b.stop_sequences).filter((s) => typeof s === "string");
  if (stop.length > 0) out.stop = stop;
  if (typeof b.stream === "boolean") {
    out.stream = b.stream;
    if (b.stream) out.stream_options = { include_usage: true };
  }
  put(out, "user", str(rec(b.metadata).user_id));
  return out;
}

// ---------------------------------------------------------------------------
// OpenAI Chat Completions → Anthropic Messages

/** Options of {@link openAIChatToAnthropic}. */
export interface OpenAIChatToAnthropicOptions {
  /** `max_tokens` when the request sets none (Anthropic requires it). */
  defaultMaxTokens: number;
}

/** An image/file URL as an Anthropic `source`: base64 for data URLs, `url` otherwise. */
function urlSource(url: string): Json {
  const m = /^data:([^;,]*)(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (m) return { type: "base64", media_type: m[1], data: m[2] };
  return { type: "url", url };
}

/** An OpenAI user content part as an Anthropic block (undefined: not representable). */
function anthropicPart(part: Json): Json | undefined {
  if (part.type === "text") return { type: "text", text: str(part.text) ?? "" };
  if (part.type === "image_url") {
    const url = str(rec(part.image_url).url) ?? str(part.image_url);
    return url ? { type: "image", source: urlSource(url) } : undefined;
  }
  if (part.type === "file") {
    const data = str(rec(part.file).file_data);
    return data?.startsWith("data:") ? { type: "document", source: urlSource(data) } : undefined;
  }
  return undefined;
}

/** Content blocks of a user message. */
function userBlocks(content: unknown): Json[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return arr(content).filter(isRecord).map(anthropicPart).filter((p): p is Json => !!p);
}

/** Content blocks of an assistant message: its text, then its tool calls. */
function assistantBlocks(m: Json): Json[] {
  const blocks: Json[] = [];
  const text = typeof m.content === "string"
    ? m.content
    : arr(m.content).filter(isRecord).map((p) => str(p.text) ?? str(p.refusal) ?? "").join("");
  if (text) blocks.push({ type: "text", text });
  for (const tc of arr(m.tool_calls).filter(isRecord)) {
    const fn = rec(tc.function);
    blocks.push({
      type: "tool_use",
      id: str(tc.id) ?? "",
      name: str(fn.name) ?? "",
      input: parseJsonObject(str(fn.arguments) ?? ""),
    });
  }
  return blocks;
}

function toolChoiceToAnthropic(choice: unknown): Json | undefined {
  if (choice === "auto") return { type: "auto" };
  if (choice === "required") return { type: "any" };
  if (choice === "none") return { type: "none" };
  const c = rec(choice);
  if (c.type === "function") return { type: "tool", name: str(rec(c.function).name) ?? "" };
  return undefined;
}

/**
 * Translates an OpenAI Chat Completions request into an Anthropic Messages one.
 *
 * System and developer messages (wherever they are) become `system`; `tool`
 * messages become `tool_result` blocks of a user message; consecutive messages
 * of the same role merge, as Anthropic requires alternation; `temperature` is
 * clamped to [0, 1].
 *
 * Throws a {@link TranslationError} for `n` > 1. Silently dropped (no Anthropic
 * equivalent): `seed`, `presence_penalty`, `frequency_penalty`, `logit_bias`,
 * `logprobs`, `top_logprobs`, `response_format`, `stream_options`,
 * `reasoning_effort`, `service_tier`, `store`, `metadata`, `modalities`,
 * `audio`, `prediction`, `web_search_options`, legacy `functions` /
 * `function_call` and `function` messages, non-function tools, audio parts,
 * assistant `reasoning_content`.
 */
export function openAIChatToAnthropic(
  body: unknown,
  opts: OpenAIChatToAnthropicOptions,
): Record<string, unknown> {
  const b = rec(body);
  const n = num(b.n);
  if (n !== undefined && n > 1) {
    throw new TranslationError(
      "`n` > 1 is not supported by the Anthropic Messages API (one answer per request): " +
        "send n=1 and repeat the request for more choices.",
    );
  }
  const system: string[] = [];
  const turns: { role: "user" | "assistant"; blocks: Json[] }[] = [];
  const add = (role: "user" | "assistant", blocks: Json[]) => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last?.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };
  for (const m of arr(b.messages).filter(isRecord)) {
    if (m.role === "system" || m.role === "developer") {
      const text = joinText(m.content, "\n\n");
      if (text) system.push(text);
    } else if (m.role === "user") add("user", userBlocks(m.content));
    else if (m.role === "assistant") add("assistant", assistantBlocks(m));
    else if (m.role === "tool") {
      add("user", [{
        type: "tool_result",
        tool_use_id: str(m.tool_call_id) ?? "",
        content: joinText(m.content, "\n"),
      }]);
    }
  }
  const out: Json = {};
  put(out, "model", b.model);
  if (system.length > 0) out.system = system.join("\n\n");
  out.messages = turns.map(({ role, blocks }) => ({
    role,
    content: blocks.length === 1 && blocks[0].type === "text" ? blocks[0].text : blocks,
  }));
  out.max_tokens = num(b.max_completion_tokens) ?? num(b.max_tokens) ?? opts.defaultMaxTokens;
  const tools = arr(b.tools).filter(isRecord).filter((t) => t.type === "function");
  if (tools.length > 0) {
    out.tools = tools.map((t) => {
      const fn = rec(t.function);
      const tool: Json = { name: str(fn.name) ?? "" };
      put(tool, "description", str(fn.description));
      tool.input_schema = isRecord(fn.parameters)
        ? fn.parameters
        : { type: "object", properties: {} };
      return tool;
    });
    let choice = toolChoiceToAnthropic(b.tool_choice);
    if (b.parallel_tool_calls === false && choice?.type !== "none") {
      choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
    }
    put(out, "tool_choice", choice);
  }
  const stop = typeof b.stop === "string"
    ? [b.stop]
    : arr(b.stop).filter((s) => typeof s === "string");
  if (stop.length > 0) out.stop_sequences = stop;
  const temperature = num(b.temperature);
  if (temperature !== undefined) out.temperature = Math.min(1, Math.max(0, temperature));
  put(out, "top_p", num(b.top_p));
  const user = str(b.user);
  if (user) out.metadata = { user_id: user };
  if (typeof b.stream === "boolean") out.stream = b.stream;
  return out;
}
