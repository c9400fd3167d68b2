/**
 * Shape checks on client requests, per protocol: only what the gateway itself
 * must parse (the model, the shape of the message list it walks for the
 * caches and translations, the stream flag). Everything else (roles, content
 * block types, fields the gateway does not know) goes to the provider, which
 * decides. A rejection uses the provider's own wording, type and fields, so a
 * client that parses the error behaves as it does against the real API.
 *
 * @module
 */

import type { WireProtocol } from "../protocol/events.ts";
import { GatewayError } from "./errors.ts";

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** OpenAI's wording: `{message, type: "invalid_request_error", param, code}`. */
function openAI(message: string, param: string | null, code: string | null): GatewayError {
  return new GatewayError(400, "invalid_request_error", message, {}, { param, code });
}

/** Anthropic's wording (pydantic-style `field: problem`), type `invalid_request_error`. */
function anthropic(message: string): GatewayError {
  return new GatewayError(400, "invalid_request_error", message);
}

/** Gemini's wording (`* Request.field: problem`), status `INVALID_ARGUMENT`. */
function gemini(message: string): GatewayError {
  return new GatewayError(400, "INVALID_ARGUMENT", message);
}

function openAIType(param: string, expected: string, v: unknown): GatewayError {
  const got = typeName(v) === "object" ? "an object" : `a ${typeName(v)}`;
  return openAI(
    `Invalid type for '${param}': expected ${expected}, but got ${got} instead.`,
    param,
    "invalid_type",
  );
}

function checkOpenAIChat(body: Record<string, unknown>): void {
  const model = body.model;
  if (model === undefined || model === null || model === "") {
    throw openAI("you must provide a model parameter", null, null);
  }
  if (typeof model !== "string") throw openAIType("model", "a string", model);
  const messages = body.messages;
  if (messages === undefined) {
    throw openAI(
      "Missing required parameter: 'messages'.",
      "messages",
      "missing_required_parameter",
    );
  }
  if (!Array.isArray(messages)) throw openAIType("messages", "an array", messages);
  if (messages.length === 0) {
    throw openAI(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      "messages",
      "empty_array",
    );
  }
  messages.forEach((m, i) => {
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      throw openAIType(`messages[${i}]`, "an object", m);
    }
  });
}

function checkResponses(body: Record<string, unknown>): void {
  const model = body.model;
  if (model === undefined || model === null || model === "") {
    throw openAI("Missing required parameter: 'model'.", "model", "missing_required_parameter");
  }
  if (typeof model !== "string") throw openAIType("model", "a string", model);
  const input = body.input;
  if (input !== undefined && typeof input !== "string" && !Array.isArray(input)) {
    throw openAIType("input", "one of a string or array of input items", input);
  }
}

function checkAnthropic(body: Record<string, unknown>): void {
  const model = body.model;
  if (model === undefined) throw anthropic("model: Field required");
  if (typeof model !== "string" || model === "") {
    throw anthropic(
      typeof model === "string"
        ? "model: String should have at least 1 character"
        : "model: Input should be a valid string",
    );
  }
  const messages = body.messages;
  if (messages === undefined) throw anthropic("messages: Field required");
  if (!Array.isArray(messages)) throw anthropic("messages: Input should be a valid list");
  if (messages.length === 0) throw anthropic("messages: at least one message is required");
  messages.forEach((m, i) => {
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      throw anthropic(`messages.${i}: Input should be a valid dictionary`);
    }
  });
}

function checkGemini(body: Record<string, unknown>): void {
  const contents = body.contents;
  if (contents === undefined || (Array.isArray(contents) && contents.length === 0)) {
    throw gemini("* GenerateContentRequest.contents: contents is not specified\n");
  }
  if (!Array.isArray(contents)) {
    throw gemini(
      `Invalid value at 'contents' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${
        JSON.stringify(contents)
      }`,
    );
  }
  contents.forEach((c, i) => {
    if (typeof c !== "object" || c === null || Array.isArray(c)) {
      throw gemini(
        `Invalid value at 'contents[${i}]' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${
          JSON.stringify(c)
        }`,
      );
    }
  });
}

/**
 * Checks a chat request of the given protocol; returns its model and stream
 * flag. For Gemini the model and the stream mode are in the URL, so the
 * returned model is empty and stream false: the route knows them.
 */
export function validateChatRequest(
  protocol: WireProtocol,
  body: Record<string, unknown>,
): { model: string; stream: boolean } {
  if (protocol === "gemini") {
    checkGemini(body);
    return { model: "", stream: false };
  }
  if (protocol === "openai_chat") checkOpenAIChat(body);
  else if (protocol === "anthropic") checkAnthropic(body);
  else checkResponses(body);
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") {
    throw protocol === "anthropic"
      ? anthropic("stream: Input should be a valid boolean")
      : openAIType("stream", "a boolean", stream);
  }
  return { model: body.model as string, stream: stream === true };
}
