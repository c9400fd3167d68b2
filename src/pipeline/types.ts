/**
 * The types that flow through the pipeline: a decoded request, its context and an answer.
 *
 * Layers see these and nothing of HTTP: the adapters at the edge decode wire
 * requests into a ChatRequest and encode an Answer back into the client's protocol.
 *
 * @module
 */

import type { AnswerEvent, WireProtocol } from "../protocol/events.ts";
import type { Recording } from "../cache/recording.ts";

/** The header that carried a client's own provider credential (Gemini's `?key=` counts as `x-goog-api-key`). */
export type ClientCredentialHeader = "authorization" | "x-api-key" | "x-goog-api-key";

/** The layer that answered, as reported in `X-Isartor-Layer` (L2.5 only rewrites, never answers). */
export type LayerName = "l1a" | "l1b" | "l2" | "l2_5" | "l3";

/** A chat request as the client sent it, decoded but not rewritten. */
export interface ChatRequest {
  /** The protocol the client spoke. */
  protocol: WireProtocol;
  /** The parsed JSON body, exactly as sent (never mutated). */
  body: Record<string, unknown>;
  /** The body bytes as sent, for byte-faithful pass-through. */
  raw: Uint8Array<ArrayBuffer>;
  /** The model the client asked for (Gemini: the one named in the URL). */
  model: string;
  /** Whether the client asked for a stream. */
  stream: boolean;
  /** The client's request headers. */
  headers: Headers;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /**
   * The client's URL query without the `?` (e.g. `beta=true`), minus what the
   * gateway consumed (Gemini's `key` and `alt`): forwarded to a provider of
   * the same protocol. Empty or absent when there was none.
   */
  query?: string;
}

/** The span of one layer (src/telemetry/tracing.ts): ended when it passes or answers. */
export interface LayerSpan {
  passed(): void;
  answered(status: number): void;
  failed(error: unknown): void;
}

/** One upstream attempt's span, and the `traceparent` that names it upstream. */
export interface AttemptSpan {
  traceparent: string;
  end(outcome: string, status?: number): void;
}

/** A request's trace, when monitoring is on (src/telemetry/tracing.ts). */
export interface RequestTracer {
  layer(name: string): LayerSpan;
  attempt(provider: string, model: string, position: number, attempt: number): AttemptSpan;
}

/** How a layer's turn ended: it answered, passed to the next layer, or threw. */
export type LayerOutcome = "answered" | "passed" | "error";

/** Told how long each layer's own turn took (src/telemetry/metrics.ts keeps the histogram). */
export type LayerTimer = (layer: LayerName, outcome: LayerOutcome, seconds: number) => void;

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
  clientCredential: { header: ClientCredentialHeader; value: string } | null;
  /** The request's trace; absent when monitoring is off. */
  trace?: RequestTracer;
  /** Charges the provider tokens this request used to its caller's quota (per-tenant keys). */
  charge?: (tokens: number) => void;
}

/** The body of an answer, in the protocol named by `Answer.protocol`. */
export type AnswerBody =
  /** A complete JSON body, as the upstream sent it. */
  | { kind: "json"; bytes: Uint8Array<ArrayBuffer> }
  /** A live SSE byte stream, relayed as it arrives. */
  | { kind: "sse"; stream: ReadableStream<Uint8Array> }
  /** Answer events, encoded in whatever protocol and mode the client wants. */
  | { kind: "events"; events: AnswerEvent[] }
  /** A cached recording: replayed natively when protocol and mode match, else from its events. */
  | { kind: "recording"; recording: Recording };

/** What a layer returns when it answers. */
/** Response headers: lower-case names to values (plain, cheaper than a `Headers` object). */
export type ResponseHeaders = Record<string, string>;

export interface Answer {
  layer: LayerName;
  /** HTTP status of the answer (an upstream error keeps the provider's status). */
  status: number;
  /** Headers worth relaying to the client (request ids, rate limits). */
  headers: ResponseHeaders;
  /** The protocol `body` is written in. */
  protocol: WireProtocol;
  body: AnswerBody;
  /** The provider that answered, for logs and `X-Isartor-Provider`. */
  provider?: string;
  /** Extra response headers set by the layer that answered (cache age, similarity). */
  layerHeaders?: Record<string, string>;
  /** An L2 answer the caches may store (`layer2.cache_answers`); L3 answers always may. */
  cacheable?: boolean;
}

/**
 * Calls the rest of the cascade (the layers after this one), with the same
 * request or, from a layer that rewrites it (L2.5), a rewritten one.
 */
export type Next = (rewritten?: ChatRequest) => Promise<Answer>;

/**
 * One step of the cascade. A layer answers, or passes by calling `next()`;
 * what `next()` returns comes back through it, so a cache can record the
 * answer on the way back (the composition model of Hono's middleware).
 */
export interface Layer {
  readonly name: LayerName;
  /** The name of this layer's span in traces; a layer without one traces itself (L3). */
  readonly spanName?: string;
  handle(req: ChatRequest, ctx: RequestContext, next: Next): Promise<Answer>;
}
