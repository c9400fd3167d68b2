/**
 * Request translation from the OpenAI Responses API (Codex CLI) to OpenAI Chat
 * Completions. Re-exported by `translate_request.ts`.
 *
 * @module
 */

import {
  arr,
  isRecord,
  joinText,
  type Json,
  num,
  put,
  rec,
  str,
  TranslationError,
} from "./_shared.ts";

/** A Responses input content part as a Chat content part (undefined: not representable). */
function chatPart(part: Json): Json | undefined {
  switch (part.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: str(part.text) ?? "" };
    case "refusal":
      return { type: "text", text: str(part.refusal) ?? "" };
    case "input_image": {
      const url = str(part.image_url);
      if (!url) return undefined;
      const image: Json = { url };
      put(image, "detail", str(part.detail));
      return { type: "image_url", image_url: image };
    }
    case "input_file": {
      const data = str(part.file_data);
      if (!data) return undefined;
      const file: Json = { file_data: data };
      put(file, "filename", str(part.filename));
      return { type: "file", file };
    }
  }
  return undefined;
}

/** A Responses `message` item as a Chat message. */
function messageToChat(item: Json): Json | undefined {
  const role = str(item.role) ?? "user";
  const content = item.content;
  // `developer` → `system`: OpenAI-compatible servers other than OpenAI rarely know `developer`.
  if (role === "system" || role === "developer") {
    return { role: "system", content: joinText(content, "\n\n") };
  }
  if (role === "assistant") return { role: "assistant", content: joinText(content, "") };
  if (role !== "user") return undefined;
  if (typeof content === "string") return { role: "user", content };
  const parts = arr(content).filter(isRecord).map(chatPart).filter((p): p is Json => !!p);
  const single = parts.length === 1 && parts[0].type === "text";
  return { role: "user", content: single ? parts[0].text : parts };
}

/** The text of a `function_call_output` (a string, or text parts). */
function outputText(output: unknown): string {
  return typeof output === "string" ? output : joinText(output, "\n");
}

/** `tool_choice` in Chat form (undefined: not representable, e.g. `allowed_tools`). */
function toolChoiceToChat(choice: unknown): unknown {
  if (choice === "auto" || choice === "none" || choice === "required") return choice;
  const c = rec(choice);
  if (c.type === "function" && str(c.name)) {
    return { type: "function", function: { name: str(c.name) } };
  }
  return undefined;
}

/** `text.format` as a Chat `response_format`. */
function responseFormat(text: unknown): Json | undefined {
  const f = rec(rec(text).format);
  if (f.type === "json_object") return { type: "json_object" };
  if (f.type !== "json_schema") return undefined;
  const schema: Json = { name: str(f.name) ?? "response" };
  put(schema, "description", str(f.description));
  put(schema, "schema", f.schema);
  put(schema, "strict", typeof f.strict === "boolean" ? f.strict : undefined);
  return { type: "json_schema", json_schema: schema };
}

/**
 * Translates an OpenAI Responses request into an OpenAI Chat Completions one.
 *
 * `instructions` becomes a leading system message; `function_call` items
 * become assistant `tool_calls` (merged into the preceding assistant message);
 * `function_call_output` items become `tool` messages; `developer` messages
 * become `system` ones; `text.format` becomes `response_format`.
 *
 * Throws a {@link TranslationError} for `previous_response_id` (the
 * conversation lives upstream; Chat has no equivalent). Silently dropped:
 * `reasoning`, `reasoning` items, `store`, `include`, `metadata`, `truncation`,
 * `prompt_cache_key`, `service_tier`, non-function tools (web search, local
 * shell, custom tools) and their call items.
 */
export function responsesToOpenAIChat(body: unknown): Record<string, unknown> {
  const b = rec(body);
  if (str(b.previous_response_id)) {
    throw new TranslationError(
      "`previous_response_id` cannot be translated to Chat Completions (the conversation " +
        "is stored upstream): send the whole conversation in `input` with `store: false`.",
    );
  }
  const messages: Json[] = [];
  const instructions = str(b.instructions);
  if (instructions) messages.push({ role: "system", content: instructions });
  if (typeof b.input === "string") messages.push({ role: "user", content: b.input });
  for (const item of arr(b.input).filter(isRecord)) {
    const type = str(item.type) ?? (item.role !== undefined ? "message" : undefined);
    if (type === "message") {
      const msg = messageToChat(item);
      if (msg) messages.push(msg);
    } else if (type === "function_call") {
      const call = {
        id: str(item.call_id) ?? "",
        type: "function",
        function: { name: str(item.name) ?? "", arguments: str(item.arguments) ?? "" },
      };
      const last = messages[messages.length - 1];
      if (last?.role === "assistant") {
        last.tool_calls = [...arr(last.tool_calls), call];
        if (last.content === "") last.content = null;
      } else {
        messages.push({ role: "assistant", content: null, tool_calls: [call] });
      }
    } else if (type === "function_call_output") {
      messages.push({
        role: "tool",
        tool_call_id: str(item.call_id) ?? "",
        content: outputText(item.output),
      });
    }
  }
  const out: Json = {};
  put(out, "model", b.model);
  out.messages = messages;
  const tools = arr(b.tools).filter(isRecord).filter((t) => t.type === "function");
  if (tools.length > 0) {
    out.tools = tools.map((t) => {
      const fn: Json = { name: str(t.name) ?? "" };
      put(fn, "description", str(t.description));
      put(fn, "parameters", isRecord(t.parameters) ? t.parameters : undefined);
      put(fn, "strict", typeof t.strict === "boolean" ? t.strict : undefined);
      return { type: "function", function: fn };
    });
    put(out, "tool_choice", toolChoiceToChat(b.tool_choice));
    put(
      out,
      "parallel_tool_calls",
      typeof b.parallel_tool_calls === "boolean" ? b.parallel_tool_calls : undefined,
    );
  }
  put(out, "max_tokens", num(b.max_output_tokens));
  put(out, "temperature", num(b.temperature));
  put(out, "top_p", num(b.top_p));
  put(out, "response_format", responseFormat(b.text));
  put(out, "user", str(b.user));
  if (typeof b.stream === "boolean") {
    out.stream = b.stream;
    if (b.stream) out.stream_options = { include_usage: true };
  }
  return out;
}
