/**
 * Errors the gateway raises itself, and their envelopes in each client protocol.
 *
 * @module
 */

import type { WireProtocol } from "../protocol/events.ts";

/** A gateway error: an HTTP status, a machine-readable type and a message that says what to fix. */
export class GatewayError extends Error {
  override name = "GatewayError";
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** OpenAI's `param` and `code`, when the error names them (validation errors). */
    readonly openAIFields?: { param: string | null; code: string | null },
  ) {
    super(message);
  }
}

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};

const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
};

/** The Anthropic error type for a status. */
export function anthropicErrorType(status: number): string {
  return ANTHROPIC_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

const GEMINI_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "INVALID_ARGUMENT",
  409: "ABORTED",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** The Google RPC status name of an HTTP status (Gemini's `error.status`). */
export function geminiErrorStatus(status: number): string {
  return GEMINI_STATUS[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
}

/** The OpenAI error type for a status. */
export function openAIErrorType(status: number): string {
  return OPENAI_TYPES[status] ?? (status >= 500 ? "server_error" : "invalid_request_error");
}

/**
 * The error body in the client's protocol.
 *
 * @example
 * ```ts
 * errorEnvelope("anthropic", 400, "missing model");
 * // { type: "error", error: { type: "invalid_request_error", message: "missing model" } }
 * ```
 */
export function errorEnvelope(
  protocol: WireProtocol,
  status: number,
  message: string,
  code: string | null = null,
  param: string | null = null,
): Record<string, unknown> {
  if (protocol === "anthropic") {
    return { type: "error", error: { type: anthropicErrorType(status), message } };
  }
  if (protocol === "gemini") {
    return { error: { code: status, message, status: geminiErrorStatus(status) } };
  }
  return { error: { message, type: openAIErrorType(status), param, code } };
}

/** Pulls the human message out of any provider's error body. */
export function upstreamErrorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const err = b.error;
    if (err && typeof err === "object") {
      const m = (err as Record<string, unknown>).message;
      if (typeof m === "string") return m;
    }
    if (typeof err === "string") return err;
    if (typeof b.message === "string") return b.message;
    if (typeof b.detail === "string") return b.detail;
  }
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 500);
  return `upstream answered HTTP ${status}`;
}
