/**
 * The body the cloud layer sends upstream.
 *
 * Same protocol: the client's bytes, untouched, unless the model changes (an
 * alias, or a fallback provider's own model). Another protocol: a translation
 * of the whole conversation (never flattened), with the target's model.
 *
 * @module
 */

import { GatewayError } from "../http/errors.ts";
import type { WireProtocol } from "../protocol/events.ts";
import {
  anthropicToOpenAIChat,
  openAIChatToAnthropic,
  responsesToOpenAIChat,
  TranslationError,
} from "../protocol/translate_request.ts";
import { geminiToOpenAIChat, openAIChatToGemini } from "../protocol/translate_gemini_request.ts";
import type { ChatRequest } from "../pipeline/types.ts";
import type { Target } from "../providers/targets.ts";

/** What the body preparation needs from the cloud options. */
export interface BodyOptions {
  anthropicDefaultMaxTokens: number;
  modelAliases: Record<string, string>;
}

/**
 * The model sent to a target:
 * 1. on the primary provider, a `model_aliases` entry for the client's model wins;
 * 2. a provider that serves only its own models (`clientModels: false`, e.g. groq,
 *    ollama) gets its configured model when one is set: a client such as Codex
 *    asks for "gpt-5", which Groq does not have;
 * 3. the primary provider speaking the client's protocol family gets the client's model;
 * 4. otherwise (another protocol, or a fallback) the target's configured model,
 *    then the client's model when the protocol family matches, then the
 *    provider's default model.
 */
export function resolveModel(
  req: ChatRequest,
  target: Target,
  proto: WireProtocol,
  aliases: Record<string, string>,
): string {
  const primary = target.position === 0;
  const alias = primary ? aliases[req.model] : undefined;
  if (alias) return alias;
  // A Gemini client names Gemini models, which a Gemini provider serves.
  const geminiNative = proto === "gemini" && req.protocol === "gemini";
  if (!target.spec.clientModels && target.model && !geminiNative) return target.model;
  const sameFamily = proto === req.protocol ||
    (req.protocol === "openai_responses" && proto === "openai_chat");
  if (primary && sameFamily) return req.model || target.model || target.spec.defaultModel;
  return target.model || (sameFamily ? req.model : "") || target.spec.defaultModel || req.model;
}

/** Translates a client body into the upstream protocol (OpenAI chat is the hub). */
function translate(
  req: ChatRequest,
  to: WireProtocol,
  opts: BodyOptions,
  model: string,
): Record<string, unknown> {
  const body = req.body;
  const from = req.protocol;
  if (from === to) return { ...body };
  const toAnthropic = (b: Record<string, unknown>) =>
    openAIChatToAnthropic(b, { defaultMaxTokens: opts.anthropicDefaultMaxTokens });
  if (from === "gemini") {
    const chat = geminiToOpenAIChat(body, model, req.stream);
    if (to === "openai_chat") return chat;
    if (to === "anthropic") return toAnthropic(chat);
  }
  if (to === "gemini") {
    if (from === "openai_chat") return openAIChatToGemini(body);
    if (from === "anthropic") return openAIChatToGemini(anthropicToOpenAIChat(body));
    if (from === "openai_responses") return openAIChatToGemini(responsesToOpenAIChat(body));
  }
  if (from === "anthropic" && to === "openai_chat") return anthropicToOpenAIChat(body);
  if (from === "openai_chat" && to === "anthropic") return toAnthropic(body);
  if (from === "openai_responses" && to === "openai_chat") return responsesToOpenAIChat(body);
  if (from === "openai_responses" && to === "anthropic") {
    return toAnthropic(responsesToOpenAIChat(body));
  }
  throw new GatewayError(500, "internal_error", `no translation from ${from} to ${to}`);
}

/** The bytes to send upstream for one target. */
export function prepareUpstreamBody(
  req: ChatRequest,
  target: Target,
  proto: WireProtocol,
  opts: BodyOptions,
): Uint8Array<ArrayBuffer> | string {
  const model = resolveModel(req, target, proto, opts.modelAliases);
  // Gemini names the model in the URL: its body never changes with it.
  if (proto === req.protocol && (model === req.model || proto === "gemini")) return req.raw;
  try {
    const body = translate(req, proto, opts, model);
    if (proto !== "gemini") body.model = model;
    return JSON.stringify(body);
  } catch (e) {
    if (e instanceof TranslationError) {
      throw new GatewayError(400, "unsupported_for_provider", `${e.message}`);
    }
    throw e;
  }
}
