/**
 * Request translation between the Gemini API and OpenAI Chat Completions, the
 * hub through which Gemini meets the other protocols (Anthropic and Responses
 * go through chat, as Responses does for Anthropic). Pure functions on parsed
 * bodies: new objects, inputs never mutated.
 *
 * @module
 */

import { arr, isRecord, type Json, num, parseJsonObject, put, rec, str } from "./_shared.ts";

/**
 * The signature Google documents for function calls that did not come from
 * Gemini (a conversation started elsewhere): Gemini 3 rejects a function call
 * in the history without a thought signature.
 */
export const SKIP_THOUGHT_SIGNATURE = "skip_thought_signature_validator";

// ---------------------------------------------------------------------------
// Gemini → OpenAI Chat Completions

/**
 * Gemini's OpenAPI-subset schema as JSON Schema: lower-case types, `nullable`
 * as a `null` type, no Gemini-only keys. A JSON schema passes unchanged but
 * for upper-case types, which Gemini accepts there too.
 */
function jsonSchemaOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchemaOf);
  if (!isRecord(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "propertyOrdering" || k === "nullable") continue;
    if (k === "type" && typeof v === "string") out.type = v.toLowerCase();
    else if (k === "properties" && isRecord(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, jsonSchemaOf(s)]));
    } else if (k === "items" || k === "anyOf" || k === "oneOf" || k === "allOf") {
      out[k] = jsonSchemaOf(v);
    } else out[k] = v;
  }
  if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

/** A data URL of an `inlineData` part. */
function dataUrl(d: Json): string {
  return `data:${str(d.mimeType) ?? "application/octet-stream"};base64,${str(d.data) ?? ""}`;
}

/** A media part (`inlineData`, `fileData`) as an OpenAI content part. */
function mediaPart(part: Json): Json | undefined {
  if (isRecord(part.inlineData)) {
    const d = part.inlineData;
    const url = dataUrl(d);
    if ((str(d.mimeType) ?? "").startsWith("image/")) {
      return { type: "image_url", image_url: { url } };
    }
    return { type: "file", file: { filename: "file", file_data: url } };
  }
  if (isRecord(part.fileData)) {
    const uri = str(part.fileData.fileUri) ?? "";
    return { type: "image_url", image_url: { url: uri } };
  }
  return undefined;
}

/** The text of a functionResponse's `response`: its `output` when that is all, else its JSON. */
function responseText(response: unknown): string {
  const r = rec(response);
  const keys = Object.keys(r);
  if (keys.length === 1 && typeof r.output === "string") return r.output;
  return JSON.stringify(response ?? {});
}

/** Text of a Content's text parts (thoughts left out), joined with a newline. */
function contentText(content: unknown): string {
  return arr(rec(content).parts).filter(isRecord).filter((p) => p.thought !== true)
    .map((p) => str(p.text)).filter((t) => t !== undefined).join("\n");
}

/**
 * Translates a Gemini `generateContent` request (model and stream mode come
 * from the URL) into an OpenAI Chat Completions one.
 *
 * `systemInstruction` becomes the system message; `model` turns become
 * assistant messages (function calls → `tool_calls`, ids kept or made up and
 * matched to the function responses by name, in order); function responses
 * become `tool` messages; inline images become `image_url` parts, other
 * inline data `file` parts. `functionDeclarations` become function tools
 * (`parametersJsonSchema` as is, `parameters` converted from Gemini's schema
 * subset); `toolConfig` becomes `tool_choice`; `generationConfig` maps to
 * `temperature`, `top_p`, `max_tokens`, `stop`, `n`, `seed`, the penalties and
 * `response_format`.
 *
 * Dropped (no chat equivalent): thought parts and thought signatures,
 * `thinkingConfig`, `topK`, `safetySettings`, `cachedContent`, built-in tools
 * (`googleSearch`, `codeExecution`, `urlContext`), code execution parts,
 * `responseModalities`, `speechConfig`, `labels`.
 */
export function geminiToOpenAIChat(
  body: unknown,
  model: string,
  stream: boolean,
): Record<string, unknown> {
  const b = rec(body);
  const messages: Json[] = [];
  const system = contentText(b.systemInstruction);
  if (system) messages.push({ role: "system", content: system });
  const pending: { id: string; name: string }[] = [];
  let calls = 0;
  for (const c of arr(b.contents).filter(isRecord)) {
    const parts = arr(c.parts).filter(isRecord);
    if (c.role === "model") {
      const texts: string[] = [];
      const toolCalls: Json[] = [];
      for (const p of parts) {
        if (p.thought === true) continue;
        if (typeof p.text === "string") texts.push(p.text);
        else if (isRecord(p.functionCall)) {
          const fc = p.functionCall;
          const id = str(fc.id) ?? `call_${calls}`;
          calls++;
          const name = str(fc.name) ?? "";
          pending.push({ id, name });
          toolCalls.push({
            id,
            type: "function",
            function: { name, arguments: JSON.stringify(fc.args ?? {}) },
          });
        }
      }
      const msg: Json = {
        role: "assistant",
        content: texts.length > 0 ? texts.join("") : toolCalls.length > 0 ? null : "",
      };
      if (toolCalls.length > 0) msg.tool_calls = toolCalls;
      messages.push(msg);
      continue;
    }
    const content: Json[] = [];
    for (const p of parts) {
      if (isRecord(p.functionResponse)) {
        const fr = p.functionResponse;
        const name = str(fr.name) ?? "";
        const byId = str(fr.id);
        let at = pending.findIndex((x) => byId !== undefined ? x.id === byId : x.name === name);
        if (at < 0 && byId !== undefined) at = pending.findIndex((x) => x.name === name);
        const id = at >= 0 ? pending.splice(at, 1)[0].id : byId ?? `call_${calls++}`;
        messages.push({ role: "tool", tool_call_id: id, content: responseText(fr.response) });
      } else if (typeof p.text === "string" && p.thought !== true) {
        content.push({ type: "text", text: p.text });
      } else {
        const media = mediaPart(p);
        if (media) content.push(media);
      }
    }
    if (content.length === 0) continue;
    const single = content.length === 1 && content[0].type === "text";
    messages.push({ role: "user", content: single ? content[0].text : content });
  }
  const out: Json = { model, messages };
  const fns = arr(b.tools).filter(isRecord).flatMap((t) =>
    arr(t.functionDeclarations).filter(isRecord)
  );
  if (fns.length > 0) {
    out.tools = fns.map((f) => {
      const fn: Json = { name: str(f.name) ?? "" };
      put(fn, "description", str(f.description));
      // Gemini CLI writes even its JSON schemas with Gemini's upper-case types ("OBJECT").
      const schema = f.parametersJsonSchema ?? f.parameters;
      fn.parameters = schema !== undefined
        ? jsonSchemaOf(schema)
        : { type: "object", properties: {} };
      return { type: "function", function: fn };
    });
    const fc = rec(rec(b.toolConfig).functionCallingConfig);
    const allowed = arr(fc.allowedFunctionNames).filter((n) => typeof n === "string");
    if (fc.mode === "NONE") out.tool_choice = "none";
    else if (fc.mode === "ANY") {
      out.tool_choice = allowed.length === 1
        ? { type: "function", function: { name: allowed[0] } }
        : "required";
    } else if (fc.mode === "AUTO") out.tool_choice = "auto";
  }
  const g = rec(b.generationConfig);
  put(out, "temperature", num(g.temperature));
  put(out, "top_p", num(g.topP));
  put(out, "max_tokens", num(g.maxOutputTokens));
  const stop = arr(g.stopSequences).filter((s) => typeof s === "string");
  if (stop.length > 0) out.stop = stop;
  put(out, "n", num(g.candidateCount));
  put(out, "seed", num(g.seed));
  put(out, "presence_penalty", num(g.presencePenalty));
  put(out, "frequency_penalty", num(g.frequencyPenalty));
  const raw = g.responseJsonSchema ?? g.responseSchema;
  const schema = raw !== undefined ? jsonSchemaOf(raw) : undefined;
  if (schema !== undefined) {
    out.response_format = { type: "json_schema", json_schema: { name: "response", schema } };
  } else if (g.responseMimeType === "application/json") {
    out.response_format = { type: "json_object" };
  }
  if (stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}

// ---------------------------------------------------------------------------
// OpenAI Chat Completions → Gemini

/** An OpenAI content part as a Gemini part (undefined: not representable). */
function geminiPart(part: Json): Json | undefined {
  if (part.type === "text") return { text: str(part.text) ?? "" };
  const url = part.type === "image_url"
    ? str(rec(part.image_url).url) ?? str(part.image_url)
    : part.type === "file"
    ? str(rec(part.file).file_data)
    : undefined;
  if (!url) return undefined;
  const m = /^data:([^;,]*)(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (m) return { inlineData: { mimeType: m[1], data: m[2] } };
  const ext = /\.(png|gif|webp)(?:$|\?)/i.exec(url)?.[1].toLowerCase();
  return { fileData: { mimeType: ext ? `image/${ext}` : "image/jpeg", fileUri: url } };
}

function userParts(content: unknown): Json[] {
  if (typeof content === "string") return [{ text: content }];
  return arr(content).filter(isRecord).map(geminiPart).filter((p): p is Json => !!p);
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  return arr(content).filter(isRecord).map((p) => str(p.text) ?? str(p.refusal) ?? "").join("");
}

/**
 * Translates an OpenAI Chat Completions request into a Gemini one (the model
 * and stream mode go in the URL, not the body).
 *
 * System and developer messages, wherever they are, become
 * `systemInstruction` (a mid-conversation system message has no Gemini
 * equivalent in place, as for Anthropic); assistant messages become `model`
 * turns, tool calls `functionCall` parts (the first of a turn signed with
 * {@link SKIP_THOUGHT_SIGNATURE}); `tool` messages become `functionResponse`
 * parts named after their call, `{"output": <text>}` (or the JSON object the
 * text holds); consecutive turns of one role merge; tools become
 * `functionDeclarations` with `parametersJsonSchema`.
 *
 * Dropped (no Gemini equivalent): `logit_bias`, `logprobs`, `top_logprobs`,
 * `user`, `store`, `metadata`, `service_tier`, `reasoning_effort`,
 * `parallel_tool_calls`, `stream_options`, audio, non-function tools.
 */
export function openAIChatToGemini(body: unknown): Record<string, unknown> {
  const b = rec(body);
  const system: string[] = [];
  const contents: { role: "user" | "model"; parts: Json[] }[] = [];
  const names = new Map<string, string>();
  const add = (role: "user" | "model", parts: Json[]) => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const m of arr(b.messages).filter(isRecord)) {
    if (m.role === "system" || m.role === "developer") {
      const text = textOf(m.content);
      if (text) system.push(text);
    } else if (m.role === "assistant") {
      const parts: Json[] = [];
      const text = textOf(m.content);
      if (text) parts.push({ text });
      arr(m.tool_calls).filter(isRecord).forEach((tc, i) => {
        const fn = rec(tc.function);
        const name = str(fn.name) ?? "";
        const id = str(tc.id) ?? "";
        if (id) names.set(id, name);
        const call: Json = { name, args: parseJsonObject(str(fn.arguments) ?? "") };
        if (id) call.id = id;
        const part: Json = { functionCall: call };
        if (i === 0) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
        parts.push(part);
      });
      add("model", parts);
    } else if (m.role === "tool") {
      const id = str(m.tool_call_id) ?? "";
      const text = textOf(m.content);
      let response: Json = { output: text };
      try {
        const parsed = JSON.parse(text);
        if (isRecord(parsed)) response = parsed;
      } catch {
        // Plain text output.
      }
      const fr: Json = { name: names.get(id) ?? "", response };
      if (id) fr.id = id;
      add("user", [{ functionResponse: fr }]);
    } else {
      add("user", userParts(m.content));
    }
  }
  const out: Json = {};
  if (system.length > 0) out.systemInstruction = { parts: [{ text: system.join("\n\n") }] };
  out.contents = contents;
  const tools = arr(b.tools).filter(isRecord).filter((t) => t.type === "function");
  if (tools.length > 0) {
    out.tools = [{
      functionDeclarations: tools.map((t) => {
        const fn = rec(t.function);
        const decl: Json = { name: str(fn.name) ?? "" };
        put(decl, "description", str(fn.description));
        if (isRecord(fn.parameters)) decl.parametersJsonSchema = fn.parameters;
        return decl;
      }),
    }];
    const choice = b.tool_choice;
    const named = str(rec(rec(choice).function).name);
    const config = choice === "none"
      ? { mode: "NONE" }
      : choice === "required"
      ? { mode: "ANY" }
      : named
      ? { mode: "ANY", allowedFunctionNames: [named] }
      : choice === "auto"
      ? { mode: "AUTO" }
      : undefined;
    if (config) out.toolConfig = { functionCallingConfig: config };
  }
  const g: Json = {};
  put(g, "temperature", num(b.temperature));
  put(g, "topP", num(b.top_p));
  put(g, "maxOutputTokens", num(b.max_completion_tokens) ?? num(b.max_tokens));
  const stop = typeof b.stop === "string"
    ? [b.stop]
    : arr(b.stop).filter((s) => typeof s === "string");
  if (stop.length > 0) g.stopSequences = stop;
  put(g, "candidateCount", num(b.n));
  put(g, "seed", num(b.seed));
  put(g, "presencePenalty", num(b.presence_penalty));
  put(g, "frequencyPenalty", num(b.frequency_penalty));
  const format = rec(b.response_format);
  if (format.type === "json_object") g.responseMimeType = "application/json";
  else if (format.type === "json_schema") {
    g.responseMimeType = "application/json";
    const schema = rec(format.json_schema).schema;
    if (schema !== undefined) g.responseJsonSchema = schema;
  }
  if (Object.keys(g).length > 0) out.generationConfig = g;
  return out;
}
