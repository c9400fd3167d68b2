/**
 * Which requests L2 may even look at: one self-contained user question.
 *
 * Recognised by shape and size, before any model call (docs/architecture.md, "L2"):
 * - the last turn is the user's, plain text (no tool results, images, files);
 * - no earlier user or assistant turns (only system/developer instructions);
 * - no tools, no tool choice, no structured output, no `n` > 1, no thinking;
 * - the system prompt, when there is one, is short plain prose: at most
 *   {@linkcode MAX_SYSTEM_CHARS} characters and none of the marks of an agent's
 *   prompt (Markdown headings, XML-ish tags, code fences, tool or
 *   environment sections);
 * - the question is at most {@linkcode MAX_QUESTION_CHARS} characters.
 *
 * @module
 */

import type { WireProtocol } from "../protocol/events.ts";
import { lastUserTurn } from "../semantic/last_turn.ts";
import type { SlmMessage } from "./backend.ts";

/** Longest system prompt L2 accepts (agents send thousands of characters). */
export const MAX_SYSTEM_CHARS = 600;
/** Longest question L2 accepts. */
export const MAX_QUESTION_CHARS = 2000;

/** The messages for the small model, or why the request is not for L2. */
export type GateResult =
  | { ok: true; system: string; question: string }
  | { ok: false; reason: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const no = (reason: string): GateResult => ({ ok: false, reason });

/** Marks of an agent's or a tool-heavy system prompt. */
const AGENT_MARKS = [
  /^#{1,6}\s/m, // Markdown headings: sectioned instructions
  /<\/?[a-z_][\w-]*>/i, // XML-ish tags (<env>, <system-reminder>, <tools>)
  /```/, // code fences
  /\b(tools?|function calls?|tool_use|working directory|cwd|repository|AGENTS\.md|CLAUDE\.md)\b/i,
  /\byou are (an? )?(interactive )?(cli|coding|software engineering|agent)/i,
];

/** The text of a system prompt in any protocol, or null when it is not plain text. */
function textOf(v: unknown, textKey = "text"): string | null {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  const parts = Array.isArray(v) ? v : isObject(v) && Array.isArray(v.parts) ? v.parts : null;
  if (!parts) return null;
  const texts: string[] = [];
  for (const p of parts) {
    if (typeof p === "string") texts.push(p);
    else if (isObject(p) && typeof p[textKey] === "string") texts.push(p[textKey] as string);
    else return null;
  }
  return texts.join("\n");
}

/** Request fields that ask for something a plain answer cannot give. */
function specialAsk(protocol: WireProtocol, body: Json): string | null {
  const nonEmpty = (v: unknown) =>
    v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
  if (nonEmpty(body.tools) || nonEmpty(body.functions)) return "the request offers tools";
  if (nonEmpty(body.tool_choice) || nonEmpty(body.toolConfig)) {
    return "the request sets tool_choice";
  }
  if (nonEmpty(body.response_format)) return "the request asks for structured output";
  if (isObject(body.text) && isObject(body.text.format) && body.text.format.type !== "text") {
    return "the request asks for structured output";
  }
  if (typeof body.n === "number" && body.n > 1) return "the request asks for several choices";
  if (nonEmpty(body.thinking) || nonEmpty(body.reasoning)) return "the request asks for reasoning";
  if (body.logprobs === true) return "the request asks for logprobs";
  if (protocol === "gemini") {
    const g = isObject(body.generationConfig) ? body.generationConfig : {};
    if (nonEmpty(g.responseSchema) || nonEmpty(g.responseJsonSchema)) {
      return "the request asks for structured output";
    }
    if (typeof g.responseMimeType === "string" && g.responseMimeType !== "text/plain") {
      return "the request asks for structured output";
    }
    if (typeof g.candidateCount === "number" && g.candidateCount > 1) {
      return "the request asks for several choices";
    }
  }
  if (nonEmpty(body.previous_response_id) || nonEmpty(body.conversation)) {
    return "the request continues an earlier conversation";
  }
  return null;
}

/** The system text and earlier turns of a request, or why they do not qualify. */
function systemOf(
  protocol: WireProtocol,
  body: Json,
  earlier: unknown[],
): { system: string } | { reason: string } {
  const systems: string[] = [];
  const push = (v: unknown, key?: string) => {
    const t = textOf(v, key);
    if (t === null) return false;
    if (t) systems.push(t);
    return true;
  };
  if (protocol === "anthropic" && !push(body.system)) {
    return { reason: "the system prompt is not plain text" };
  }
  if (protocol === "openai_responses" && !push(body.instructions)) {
    return { reason: "the instructions are not plain text" };
  }
  if (protocol === "gemini" && !push(body.systemInstruction ?? body.system_instruction)) {
    return { reason: "the system instruction is not plain text" };
  }
  for (const m of earlier) {
    if (!isObject(m)) return { reason: "the request has a malformed message" };
    const role = m.role;
    if (role === "system" || role === "developer") {
      const key = protocol === "openai_responses" ? "text" : "text";
      if (!push(m.content, key)) return { reason: "the system prompt is not plain text" };
      continue;
    }
    return { reason: "the request has earlier turns (a conversation)" };
  }
  return { system: systems.join("\n\n") };
}

/**
 * Whether a request is one self-contained user question, and if so its parts.
 *
 * @example
 * ```ts
 * gateRequest("openai_chat", { model: "m", messages: [{ role: "user", content: "What is 2+2?" }] });
 * // { ok: true, system: "", question: "What is 2+2?" }
 * gateRequest("openai_chat", { model: "m", tools: [{}], messages: [{ role: "user", content: "Hi" }] }).ok; // false
 * ```
 */
export function gateRequest(protocol: WireProtocol, body: Json): GateResult {
  const special = specialAsk(protocol, body);
  if (special) return no(special);
  const turn = lastUserTurn(protocol, body);
  if (!turn.ok) return no(turn.reason);
  const field = protocol === "openai_responses"
    ? "input"
    : protocol === "gemini"
    ? "contents"
    : "messages";
  const earlier = turn.value.prefix[field];
  const sys = systemOf(protocol, body, Array.isArray(earlier) ? earlier : []);
  if ("reason" in sys) return no(sys.reason);
  if (sys.system.length > MAX_SYSTEM_CHARS) return no("the system prompt is long (an agent's)");
  if (AGENT_MARKS.some((re) => re.test(sys.system))) {
    return no("the system prompt has the shape of an agent's");
  }
  const question = turn.value.text;
  if (question.length > MAX_QUESTION_CHARS) return no("the question is long");
  return { ok: true, system: sys.system, question };
}

/** The messages the small model answers from. */
export function answerMessages(gate: { system: string; question: string }): SlmMessage[] {
  const messages: SlmMessage[] = [];
  if (gate.system) messages.push({ role: "system", content: gate.system });
  messages.push({ role: "user", content: gate.question });
  return messages;
}
