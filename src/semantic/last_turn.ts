/**
 * The last user turn of a request, per protocol: the text the semantic cache
 * embeds, and everything else (the prefix) that its partition hashes.
 *
 * Only a plain text user turn qualifies. A last turn that carries tool
 * results, images, audio or files, or a last message that is not the user's
 * (an assistant prefill, a tool message), is not looked up semantically.
 *
 * @module
 */

import type { WireProtocol } from "../protocol/events.ts";

/** A request split into its last user turn and the rest. */
export interface LastTurn {
  /** The text of the last user turn (its text parts joined by a newline). */
  text: string;
  /** The body without the last turn's content: every earlier turn and every other field. */
  prefix: Record<string, unknown>;
  /** The last turn's own fields other than its content (`role`, `name`…). */
  turn: Record<string, unknown>;
}

/** The outcome: the split, or why the request has no plain-text last user turn. */
export type LastTurnResult = { ok: true; value: LastTurn } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const no = (reason: string): LastTurnResult => ({ ok: false, reason });

/** The text of content parts, or the reason one of them is not text. */
function partsText(parts: unknown[], textType: string): { text: string } | { reason: string } {
  const texts: string[] = [];
  for (const p of parts) {
    if (!isObject(p)) return { reason: "the last turn has a malformed content part" };
    if (p.type === textType && typeof p.text === "string") {
      texts.push(p.text);
      continue;
    }
    if (p.type === "tool_result") return { reason: "the last turn carries tool results" };
    if (
      typeof p.type === "string" && /image|audio|file|document|video/.test(p.type)
    ) return { reason: "the last turn carries images or files" };
    return { reason: `the last turn has a non-text part (${String(p.type)})` };
  }
  return { text: texts.join("\n") };
}

function fromContent(content: unknown, textType: string): { text: string } | { reason: string } {
  if (typeof content === "string") return { text: content };
  if (Array.isArray(content)) return partsText(content, textType);
  return { reason: "the last turn has no text content" };
}

function split(
  body: Record<string, unknown>,
  field: string,
  items: unknown[],
  textType: string,
): LastTurnResult {
  const last = items.at(-1);
  if (!isObject(last)) return no("the request has no last turn");
  if (last.type !== undefined && last.type !== "message") {
    return no(
      last.type === "function_call_output"
        ? "the last turn carries tool results"
        : `the last input item is a ${String(last.type)}`,
    );
  }
  if (last.role !== "user") {
    return no(
      last.role === "tool"
        ? "the last turn carries tool results"
        : `the last message is not the user's (${String(last.role)})`,
    );
  }
  const got = fromContent(last.content, textType);
  if ("reason" in got) return no(got.reason);
  if (got.text.trim() === "") return no("the last turn is empty");
  const { content: _, ...turn } = last;
  return {
    ok: true,
    value: { text: got.text, prefix: { ...body, [field]: items.slice(0, -1) }, turn },
  };
}

/**
 * Splits a request into its last user turn and the rest.
 *
 * - OpenAI chat: the last of `messages`, role `user`, string or `text` parts.
 * - Anthropic: the last of `messages`, role `user`, string or `text` blocks
 *   (a `tool_result` block makes it a tool turn).
 * - Responses: a string `input`, or the last `input` item when it is a user
 *   message (string or `input_text` parts).
 *
 * @example
 * ```ts
 * const r = lastUserTurn("openai_chat", {
 *   model: "m",
 *   messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi?" }],
 * });
 * r.ok && r.value.text; // "Hi?"
 * r.ok && r.value.prefix.messages; // [{ role: "system", content: "Be brief." }]
 * ```
 */
export function lastUserTurn(
  protocol: WireProtocol,
  body: Record<string, unknown>,
): LastTurnResult {
  if (protocol === "openai_responses") {
    const input = body.input;
    if (typeof input === "string") {
      if (input.trim() === "") return no("the last turn is empty");
      const { input: _, ...prefix } = body;
      return { ok: true, value: { text: input, prefix, turn: { input: "string" } } };
    }
    if (!Array.isArray(input) || input.length === 0) return no("the request has no input");
    return split(body, "input", input, "input_text");
  }
  if (protocol === "gemini") return geminiLastTurn(body);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return no("the request has no messages");
  return split(body, "messages", messages, "text");
}

/** Gemini: the last of `contents`, role `user` (or none), with text parts only. */
function geminiLastTurn(body: Record<string, unknown>): LastTurnResult {
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) return no("the request has no contents");
  const last = contents.at(-1);
  if (!isObject(last)) return no("the request has no last turn");
  if (last.role !== undefined && last.role !== "user") {
    return no(`the last message is not the user's (${String(last.role)})`);
  }
  const texts: string[] = [];
  for (const p of Array.isArray(last.parts) ? last.parts : []) {
    if (!isObject(p)) return no("the last turn has a malformed content part");
    if (p.functionResponse !== undefined) return no("the last turn carries tool results");
    if (p.inlineData !== undefined || p.fileData !== undefined) {
      return no("the last turn carries images or files");
    }
    const keys = Object.keys(p);
    if (typeof p.text !== "string" || p.thought === true || keys.some((k) => k !== "text")) {
      return no(`the last turn has a non-text part (${keys.join(",")})`);
    }
    texts.push(p.text);
  }
  const text = texts.join("\n");
  if (text.trim() === "") return no("the last turn is empty");
  const { parts: _, ...turn } = last;
  return {
    ok: true,
    value: { text, prefix: { ...body, contents: contents.slice(0, -1) }, turn },
  };
}
