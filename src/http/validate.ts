/**
 * Shape checks on client requests, per protocol: just enough to give a clear
 * 400 before spending an upstream call, never a rewrite.
 *
 * @module
 */

import type { WireProtocol } from "../protocol/events.ts";
import { GatewayError } from "./errors.ts";

function bad(field: string, problem: string, fix: string): GatewayError {
  return new GatewayError(400, "invalid_request_error", `${field}: ${problem}; fix: ${fix}`);
}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

function optional(
  body: Record<string, unknown>,
  field: string,
  type: "number" | "boolean" | "string",
) {
  const v = body[field];
  if (v !== undefined && v !== null && typeof v !== type) {
    throw bad(
      field,
      `expected a ${type}, got ${typeName(v)}`,
      `send ${field} as a ${type} or leave it out`,
    );
  }
}

function checkMessages(body: Record<string, unknown>, allowSystemRole: boolean) {
  const messages = body.messages;
  if (messages === undefined) {
    throw bad("messages", "missing", 'send "messages": [{"role": "user", "content": "..."}]');
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    throw bad(
      "messages",
      `expected a non-empty array, got ${typeName(messages)}${
        Array.isArray(messages) ? " (empty)" : ""
      }`,
      'send at least one message, e.g. [{"role": "user", "content": "hi"}]',
    );
  }
  messages.forEach((m, i) => {
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      throw bad(`messages[${i}]`, `expected an object, got ${typeName(m)}`, "send {role, content}");
    }
    const role = (m as Record<string, unknown>).role;
    if (typeof role !== "string") {
      throw bad(
        `messages[${i}].role`,
        "missing or not a string",
        'set role to "user" or "assistant"',
      );
    }
    if (!allowSystemRole && role === "system") {
      throw bad(
        `messages[${i}].role`,
        '"system" is not a message role in the Anthropic API',
        'move the system prompt to the top-level "system" field',
      );
    }
  });
}

/** Checks a chat request of the given protocol; returns its model and stream flag. */
export function validateChatRequest(
  protocol: WireProtocol,
  body: Record<string, unknown>,
): { model: string; stream: boolean } {
  const model = body.model;
  if (typeof model !== "string" || model.trim() === "") {
    throw bad(
      "model",
      model === undefined ? "missing" : `expected a non-empty string, got ${typeName(model)}`,
      'name the model, e.g. "model": "gpt-4o-mini"',
    );
  }
  optional(body, "stream", "boolean");
  optional(body, "temperature", "number");
  optional(body, "top_p", "number");
  optional(body, "max_tokens", "number");
  if (protocol === "openai_chat") {
    checkMessages(body, true);
    optional(body, "max_completion_tokens", "number");
    optional(body, "n", "number");
  } else if (protocol === "anthropic") {
    checkMessages(body, false);
    const system = body.system;
    if (system !== undefined && typeof system !== "string" && !Array.isArray(system)) {
      throw bad(
        "system",
        `expected a string or an array of text blocks, got ${typeName(system)}`,
        "send the system prompt as a string",
      );
    }
  } else {
    const input = body.input;
    if (typeof input !== "string" && !Array.isArray(input)) {
      throw bad(
        "input",
        input === undefined ? "missing" : `expected a string or an array, got ${typeName(input)}`,
        'send "input": "your prompt" or an array of input items',
      );
    }
    optional(body, "max_output_tokens", "number");
    optional(body, "instructions", "string");
  }
  return { model, stream: body.stream === true };
}
