/**
 * One table of codecs: for each wire protocol, how to decode an upstream answer
 * into events and encode events back, as JSON or as a stream.
 *
 * @module
 */

import type { AnswerEvent, SseEvent, WireProtocol } from "./events.ts";
import { encodeSse } from "./sse.ts";
import {
  decodeOpenAIChatJson,
  encodeOpenAIChatJson,
  OpenAIChatStreamDecoder,
  OpenAIChatStreamEncoder,
} from "./openai_chat.ts";
import {
  AnthropicStreamDecoder,
  AnthropicStreamEncoder,
  decodeAnthropicJson,
  encodeAnthropicJson,
} from "./anthropic.ts";
import {
  decodeResponsesJson,
  encodeResponsesJson,
  ResponsesStreamDecoder,
  ResponsesStreamEncoder,
} from "./openai_responses.ts";
import { decodeGeminiJson, GeminiStreamDecoder } from "./gemini.ts";
import { encodeGeminiJson, GeminiStreamEncoder } from "./gemini_encode.ts";

/** Turns upstream SSE events into answer events, incrementally. */
export interface StreamDecoder {
  decode(ev: SseEvent): AnswerEvent[];
  /** Called when the byte stream ended; returns what was held back (the stop event). */
  finish(): AnswerEvent[];
}

/** Turns answer events into the client's SSE events, incrementally. */
export interface StreamEncoder {
  encode(ev: AnswerEvent): SseEvent[];
}

/** Everything the edge needs to speak one protocol. */
export interface Codec {
  decodeJson(body: unknown): AnswerEvent[];
  streamDecoder(): StreamDecoder;
  encodeJson(events: AnswerEvent[]): Record<string, unknown>;
  /** An encoder for a client request (OpenAI's `stream_options.include_usage` decides the usage chunk). */
  streamEncoder(request: Record<string, unknown>): StreamEncoder;
  /** The SSE bytes that tell a client its stream failed mid-way. */
  streamError(message: string): string;
}

function includeUsage(request: Record<string, unknown>): boolean {
  const opts = request.stream_options;
  return typeof opts === "object" && opts !== null &&
    (opts as Record<string, unknown>).include_usage === true;
}

/** The codec of each protocol. */
export const CODECS: Readonly<Record<WireProtocol, Codec>> = {
  openai_chat: {
    decodeJson: decodeOpenAIChatJson,
    streamDecoder: () => new OpenAIChatStreamDecoder(),
    encodeJson: encodeOpenAIChatJson,
    streamEncoder: (req) => new OpenAIChatStreamEncoder({ includeUsage: includeUsage(req) }),
    // The OpenAI SDKs raise an APIError on a data event that carries `error`.
    streamError: (message) =>
      encodeSse({
        data: JSON.stringify({
          error: { message, type: "server_error", param: null, code: "stream_interrupted" },
        }),
      }),
  },
  anthropic: {
    decodeJson: decodeAnthropicJson,
    streamDecoder: () => new AnthropicStreamDecoder(),
    encodeJson: encodeAnthropicJson,
    streamEncoder: () => new AnthropicStreamEncoder(),
    streamError: (message) =>
      encodeSse({
        event: "error",
        data: JSON.stringify({ type: "error", error: { type: "api_error", message } }),
      }),
  },
  openai_responses: {
    decodeJson: decodeResponsesJson,
    streamDecoder: () => new ResponsesStreamDecoder(),
    encodeJson: encodeResponsesJson,
    streamEncoder: () => new ResponsesStreamEncoder(),
    streamError: (message) =>
      encodeSse({
        event: "error",
        data: JSON.stringify({ type: "error", code: "stream_interrupted", message, param: null }),
      }),
  },
  gemini: {
    decodeJson: decodeGeminiJson,
    streamDecoder: () => new GeminiStreamDecoder(),
    encodeJson: encodeGeminiJson,
    streamEncoder: () => new GeminiStreamEncoder(),
    // The Gemini SDKs raise an ApiError on a chunk that carries `error`.
    streamError: (message) =>
      encodeSse({ data: JSON.stringify({ error: { code: 500, message, status: "INTERNAL" } }) }),
  },
};
