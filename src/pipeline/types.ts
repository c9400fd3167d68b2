/**
 * The types that flow through the pipeline: a decoded request, its context and an answer.
 *
 * Layers see these and nothing of HTTP: the adapters at the edge decode wire
 * requests into a ChatRequest and encode an Answer back into the client's protocol.
 *
 * @module
 */

import type { AnswerEvent, WireProtocol } from "../protocol/events.ts";

/** The layer that answered, as reported in `X-Isartor-Layer`. */
export type LayerName = "l1a" | "l1b" | "l2" | "l3";

/** A chat request as the client sent it, decoded but not rewritten. */
export interface ChatRequest {
  /** The protocol the client spoke. */
  protocol: WireProtocol;
  /** The parsed JSON body, exactly as sent (never mutated). */
  body: Record<string, unknown>;
  /** The body bytes as sent, for byte-faithful pass-through. */
  raw: Uint8Array<ArrayBuffer>;
  /** The model the client asked for. */
  model: string;
  /** Whether the client asked for a stream. */
  stream: boolean;
  /** The client's request headers. */
  headers: Headers;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/** Per-request facts every layer may use. */
export interface RequestContext {
  /** Our own id for this request (also in `X-Isartor-Request-Id`). */
  requestId: string;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
  /** Who is calling: the cache partition (set by the edge). */
  tenant: string;
  /**
   * The client's own provider credential when it is not the gateway key:
   * forwarded upstream when no provider key is configured (pass-through auth).
   */
  clientCredential: { header: "authorization" | "x-api-key"; value: string } | null;
}

/** The body of an answer, in the protocol named by `Answer.protocol`. */
export type AnswerBody =
  /** A complete JSON body, as the upstream sent it. */
  | { kind: "json"; bytes: Uint8Array<ArrayBuffer> }
  /** A live SSE byte stream, relayed as it arrives. */
  | { kind: "sse"; stream: ReadableStream<Uint8Array> }
  /** A recording, replayed in whatever protocol and mode the client wants. */
  | { kind: "events"; events: AnswerEvent[] };

/** What a layer returns when it answers. */
export interface Answer {
  layer: LayerName;
  /** HTTP status of the answer (an upstream error keeps the provider's status). */
  status: number;
  /** Headers worth relaying to the client (request ids, rate limits). */
  headers: Headers;
  /** The protocol `body` is written in. */
  protocol: WireProtocol;
  body: AnswerBody;
  /** The provider that answered, for logs and `X-Isartor-Provider`. */
  provider?: string;
}

/** One step of the cascade. Returns an answer, or null to pass to the next layer. */
export interface Layer {
  readonly name: LayerName;
  handle(req: ChatRequest, ctx: RequestContext): Promise<Answer | null>;
}
