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
import type { ChatRequest } from "../pipeline/types.ts";
import type { Target } from "../providers/targets.ts";

/** What the body preparation needs from the cloud options. */
export interface BodyOptions {
  anthropicDefaultMaxTokens: number;
  modelAliases: Record<string, string>;
}

/**
 * The model sent to a target: an alias wins; the primary provider speaking the
 * client's protocol gets the client's model; otherwise the target's own model
 * (an Anthropic model name means nothing to an OpenAI-compatible provider, and
 * a fallback exists to serve its own model).
 */
export function resolveModel(
  req: ChatRequest,
  target: Target,
  proto: WireProtocol,
  aliases: Record<string, string>,
): string {
  const alias = aliases[req.model];
  if (alias) return alias;
  const sameFamily = proto === req.protocol ||
    (req.protocol === "openai_responses" && proto === "openai_chat");
  if (target.position === 0 && sameFamily) {
    return req.model || target.model || target.spec.defaultModel;
  }
  return target.model || (sameFamily ? req.model : "") || target.spec.defaultModel;
}

/** Translates a client body into the upstream protocol. */
function translate(
  body: Record<string, unknown>,
  from: WireProtocol,
  to: WireProtocol,
  opts: BodyOptions,
): Record<string, unknown> {
  if (from === to) return { ...body };
  const toAnthropic = (b: Record<string, unknown>) =>
    openAIChatToAnthropic(b, { defaultMaxTokens: opts.anthropicDefaultMaxTokens });
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
  if (proto === req.protocol && model === req.model) return req.raw;
  try {
    const body = translate(req.body, req.protocol, proto, opts);
    body.model = model;
    return JSON.stringify(body);
  } catch (e) {
    if (e instanceof TranslationError) {
      throw new GatewayError(400, "unsupported_for_provider", `${e.message}`);
    }
    throw e;
  }
}
