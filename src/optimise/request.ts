/**
 * Walks a request body of any of the four protocols and applies the rules to
 * what they may change, and nothing else:
 *
 * - system prompts (Anthropic `system`, OpenAI `system`/`developer` messages,
 *   Responses `instructions` and `system`/`developer` input items, Gemini
 *   `systemInstruction`) and instruction files in a CLI's envelope
 *   (envelopes.ts): the instruction rules (minify.ts);
 * - tool results (Anthropic `tool_result`, OpenAI `tool` messages, Responses
 *   `*_call_output` items, Gemini `functionResponse`): identical line runs
 *   folded (line_runs.ts).
 *
 * User and assistant text, tool calls, tools, images and every other field
 * pass as they are. Copy on write: the client's body is never mutated, and
 * what did not change is shared.
 *
 * @module
 */

import type { WireProtocol } from "../protocol/events.ts";
import { isInstructionEnvelope } from "./envelopes.ts";
import { foldLineRuns } from "./line_runs.ts";
import { optimiseInstructions, type OptimiseRules } from "./minify.ts";
import { tokensSaved } from "./tokens.ts";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** What a rewrite saved. */
export interface OptimiseResult {
  /** The rewritten body (shares what did not change with the client's). */
  body: Obj;
  /** Estimated tokens saved (tokens.ts). */
  tokensSaved: number;
  /** Characters saved in the rewritten texts. */
  charsSaved: number;
  /** How many texts changed. */
  textsChanged: number;
}

/** One request's pass: the rules, the blocks seen so far, the savings. */
class Pass {
  readonly seen = new Set<string>();
  tokensSaved = 0;
  charsSaved = 0;
  textsChanged = 0;
  constructor(readonly rules: OptimiseRules) {}

  #count(before: string, after: string): string {
    if (after !== before) {
      this.textsChanged++;
      this.charsSaved += before.length - after.length;
      this.tokensSaved += tokensSaved(before, after);
    }
    return after;
  }

  /** A system prompt or instruction file. */
  instructions = (text: string): string =>
    this.#count(text, optimiseInstructions(text, this.rules, this.seen));

  /** A tool result's text. */
  toolResult = (text: string): string =>
    this.rules.dedup ? this.#count(text, foldLineRuns(text)) : text;
}

/** Maps an array, returning the same array when no element changed. */
function mapSame<T>(items: readonly T[], f: (item: T) => T): T[] {
  let out: T[] | null = null;
  for (let i = 0; i < items.length; i++) {
    const v = f(items[i]);
    if (v !== items[i]) (out ??= items.slice())[i] = v;
  }
  return out ?? (items as T[]);
}

/** `obj` with `key` set to `f(obj[key])`, or `obj` itself when that changed nothing. */
function withField(obj: Obj, key: string, f: (v: unknown) => unknown): Obj {
  if (!(key in obj)) return obj;
  const v = f(obj[key]);
  return v === obj[key] ? obj : { ...obj, [key]: v };
}

/** A string, or the `text` of text parts (`type` one of `types`), through `f`. */
function textContent(types: readonly string[], f: (s: string) => string) {
  return (v: unknown): unknown => {
    if (typeof v === "string") return f(v);
    if (!Array.isArray(v)) return v;
    return mapSame(
      v,
      (p: unknown) =>
        isObj(p) && types.includes(String(p.type)) && typeof p.text === "string"
          ? withField(p, "text", (t) => f(t as string))
          : p,
    );
  };
}

/** Text parts whose whole text is an instruction envelope. */
function envelopes(types: readonly string[], pass: Pass) {
  return textContent(types, (s) => (isInstructionEnvelope(s) ? pass.instructions(s) : s));
}

function anthropic(body: Obj, pass: Pass): Obj {
  let out = withField(body, "system", textContent(["text"], pass.instructions));
  out = withField(out, "messages", (ms) =>
    Array.isArray(ms)
      ? mapSame(ms, (m: unknown) => {
        if (!isObj(m) || m.role !== "user" || !Array.isArray(m.content)) return m;
        return withField(m, "content", (c) =>
          mapSame(c as unknown[], (b: unknown) => {
            if (!isObj(b)) return b;
            if (b.type === "text" && typeof b.text === "string" && isInstructionEnvelope(b.text)) {
              return withField(b, "text", (t) => pass.instructions(t as string));
            }
            if (b.type === "tool_result") {
              return withField(b, "content", textContent(["text"], pass.toolResult));
            }
            return b;
          }));
      })
      : ms);
  return out;
}

function openaiChat(body: Obj, pass: Pass): Obj {
  return withField(body, "messages", (ms) =>
    Array.isArray(ms)
      ? mapSame(ms, (m: unknown) => {
        if (!isObj(m)) return m;
        const content = m.role === "system" || m.role === "developer"
          ? textContent(["text"], pass.instructions)
          : m.role === "tool"
          ? textContent(["text"], pass.toolResult)
          : m.role === "user"
          ? envelopes(["text"], pass)
          : null;
        return content ? withField(m, "content", content) : m;
      })
      : ms);
}

const RESPONSES_TEXT = ["input_text", "text", "output_text"];

function responses(body: Obj, pass: Pass): Obj {
  let out = withField(
    body,
    "instructions",
    (v) => typeof v === "string" ? pass.instructions(v) : v,
  );
  out = withField(out, "input", (items) =>
    Array.isArray(items)
      ? mapSame(items, (it: unknown) => {
        if (!isObj(it)) return it;
        const type = it.type ?? "message";
        if (type === "message") {
          const content = it.role === "system" || it.role === "developer"
            ? textContent(RESPONSES_TEXT, pass.instructions)
            : it.role === "user"
            ? envelopes(RESPONSES_TEXT, pass)
            : null;
          return content ? withField(it, "content", content) : it;
        }
        if (typeof type === "string" && type.endsWith("_call_output")) {
          return withField(it, "output", textContent(RESPONSES_TEXT, pass.toolResult));
        }
        return it;
      })
      : items);
  return out;
}

/** Every string inside a Gemini function response, through `f` (depth-limited). */
function deepStrings(v: unknown, f: (s: string) => string, depth = 0): unknown {
  if (typeof v === "string") return f(v);
  if (depth > 8) return v;
  if (Array.isArray(v)) return mapSame(v, (x: unknown) => deepStrings(x, f, depth + 1));
  if (!isObj(v)) return v;
  let out = v;
  for (const k of Object.keys(v)) out = withField(out, k, (x) => deepStrings(x, f, depth + 1));
  return out;
}

function geminiParts(f: (part: Obj) => Obj) {
  return (c: unknown): unknown =>
    isObj(c) && Array.isArray(c.parts)
      ? withField(c, "parts", (ps) => mapSame(ps as unknown[], (p) => (isObj(p) ? f(p) : p)))
      : c;
}

function gemini(body: Obj, pass: Pass): Obj {
  const system = geminiParts((p) =>
    typeof p.text === "string" && !p.thought
      ? withField(p, "text", (t) => pass.instructions(t as string))
      : p
  );
  let out = withField(body, "systemInstruction", system);
  out = withField(out, "system_instruction", system);
  out = withField(out, "contents", (cs) =>
    Array.isArray(cs)
      ? mapSame(
        cs,
        geminiParts((p) => {
          const fr = p.functionResponse;
          if (isObj(fr)) {
            return withField(
              p,
              "functionResponse",
              (x) => withField(x as Obj, "response", (r) => deepStrings(r, pass.toolResult)),
            );
          }
          if (typeof p.text === "string" && isInstructionEnvelope(p.text)) {
            return withField(p, "text", (t) => pass.instructions(t as string));
          }
          return p;
        }),
      )
      : cs);
  return out;
}

const WALKERS: Record<WireProtocol, (body: Obj, pass: Pass) => Obj> = {
  anthropic,
  openai_chat: openaiChat,
  openai_responses: responses,
  gemini,
};

/**
 * Rewrites a request body; `null` when nothing changed (the client's bytes
 * then go upstream as they came).
 *
 * @example
 * ```ts
 * const r = optimiseRequest("openai_chat", {
 *   messages: [{ role: "system", content: "Be brief.   \n\n\n<!-- v2 -->" }],
 * }, { minify: true, dedup: true });
 * r?.body; // { messages: [{ role: "system", content: "Be brief.\n" }] }
 * ```
 */
export function optimiseRequest(
  protocol: WireProtocol,
  body: Obj,
  rules: OptimiseRules,
): OptimiseResult | null {
  if (!rules.minify && !rules.dedup) return null;
  const pass = new Pass(rules);
  const out = WALKERS[protocol](body, pass);
  if (out === body) return null;
  return {
    body: out,
    tokensSaved: pass.tokensSaved,
    charsSaved: pass.charsSaved,
    textsChanged: pass.textsChanged,
  };
}
