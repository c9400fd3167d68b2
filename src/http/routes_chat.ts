/**
 * The chat routes: decode the wire request, run the pipeline, encode the answer.
 *
 * @module
 */

import type { Context } from "hono";
import type { WireProtocol } from "../protocol/events.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { ChatRequest, RequestContext, ResponseHeaders } from "../pipeline/types.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { Recorder } from "../telemetry/recorder.ts";
import type { Tracing } from "../telemetry/tracing.ts";
import { lastUserTurn } from "../semantic/last_turn.ts";
import type { ExactCacheLayer } from "../layers/exact_cache.ts";
import type { Caller } from "./auth.ts";
import { parseJsonObject, readBodyLimited } from "./body.ts";
import { GatewayError } from "./errors.ts";
import { encodeAnswer, settleBody } from "./respond.ts";
import { validateChatRequest } from "./validate.ts";

/** What the chat handlers need from the composition root. */
export interface ChatDeps {
  pipeline: Pipeline;
  metrics: Metrics;
  maxBodyBytes: number;
  /** Most milliseconds a client may take to send its body. */
  readTimeoutMs?: number;
  /** Counts each request into the stats, the metrics and the request log. */
  recorder?: Recorder;
  /** The exact cache, for answering a repeat of known bytes before parsing them. */
  exact?: ExactCacheLayer | null;
  /** Traces, when monitoring is on. */
  tracing?: Tracing | null;
}

/** Hono variables set by the auth middleware. */
export type GatewayEnv = { Variables: { caller: Caller; requestId: string } };

/** Builds the per-request context from the caller. */
export function requestContext(c: Context<GatewayEnv>): RequestContext {
  const caller = c.get("caller");
  return {
    requestId: c.get("requestId"),
    startedAt: performance.now(),
    tenant: caller.tenant,
    clientCredential: caller.clientCredential,
  };
}

/**
 * What a route read from the URL: the query to forward (without what the
 * gateway consumed) and, for Gemini, the model and the stream mode.
 */
export interface RouteFacts {
  query: string;
  model?: string;
  stream?: boolean;
}

/** The query of a URL, without the `?`. */
function queryOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? "" : url.slice(q + 1);
}

/** Serves one chat request of a protocol, given the authenticated caller. */
export type ChatEndpoint = (
  request: Request,
  caller: Caller,
  requestId: string,
  route?: RouteFacts,
) => Promise<Response>;

/** A Hono handler for one chat protocol. */
export function chatHandler(protocol: WireProtocol, deps: ChatDeps) {
  const serve = chatEndpoint(protocol, deps);
  return (c: Context<GatewayEnv>): Promise<Response> =>
    serve(c.req.raw, c.get("caller"), c.get("requestId"));
}

/**
 * The chat endpoint of one protocol, independent of the router: the
 * composition root calls it directly on the hot path.
 */
export function chatEndpoint(protocol: WireProtocol, deps: ChatDeps): ChatEndpoint {
  return async (request, caller, requestId, route) => {
    const ctx: RequestContext = {
      requestId,
      startedAt: performance.now(),
      tenant: caller.tenant,
      clientCredential: caller.clientCredential,
    };
    const query = route?.query ?? queryOf(request.url);
    const url = { query: query || undefined, model: route?.model, stream: route?.stream };
    const trace = deps.tracing?.start(protocol, request.headers, requestId, caller.tenant);
    if (trace) ctx.trace = trace;
    const raw = await readBodyLimited(request, deps.maxBodyBytes, deps.readTimeoutMs);
    // A repeat of bytes the exact cache has seen and answered: no parse at all.
    const lookupAt = performance.now();
    const early = await deps.exact?.hitForRawBytes(
      protocol,
      raw,
      request.headers,
      ctx.tenant,
      url,
    );
    let req: ChatRequest;
    let answer;
    if (early) {
      deps.metrics.observeLayer("l1a", "answered", (performance.now() - lookupAt) / 1000);
      const { facts } = early;
      const body = facts.streamOptions === undefined ? {} : { stream_options: facts.streamOptions };
      req = {
        protocol,
        body,
        raw,
        model: facts.model,
        stream: facts.stream,
        headers: request.headers,
        signal: request.signal,
        query,
      };
      answer = early.answer;
      // Answered before parsing: its span marks the layer (the lookup took microseconds).
      trace?.layer("l1a_exact_cache").answered(answer.status);
    } else {
      const body = parseJsonObject(raw);
      const checked = validateChatRequest(protocol, body);
      if (trace?.captureContent) {
        const turn = lastUserTurn(protocol, body);
        if (turn.ok) trace.content(turn.value.text);
      }
      req = {
        protocol,
        body,
        raw,
        model: route?.model ?? checked.model,
        stream: route?.stream ?? checked.stream,
        headers: request.headers,
        signal: request.signal,
        query,
      };
      try {
        answer = await deps.pipeline.run(req, ctx);
        // A broken success becomes a 502 here, before any byte is sent.
        answer = await settleBody(answer, { protocol, stream: req.stream, body });
      } catch (e) {
        deps.recorder?.failed(req, ctx, e instanceof GatewayError ? e.status : 500, e);
        throw e;
      }
    }
    const { stream, body } = req;
    if (deps.recorder) answer = deps.recorder.answered(req, ctx, answer);
    const headers: ResponseHeaders = {
      "x-isartor-request-id": ctx.requestId,
      "x-isartor-layer": answer.layer,
      "x-isartor-deflected": answer.layer === "l3" ? "false" : "true",
    };
    if (answer.provider) headers["x-isartor-provider"] = answer.provider;
    return encodeAnswer(answer, { protocol, stream, body }, headers, (ok, err) => {
      if (ok) return;
      if (request.signal.aborted) deps.metrics.clientAborts.inc({ route: protocol });
      else deps.metrics.streamErrors.inc({ route: protocol });
      void err;
    });
  };
}
