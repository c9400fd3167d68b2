/**
 * The chat routes: decode the wire request, run the pipeline, encode the answer.
 *
 * @module
 */

import type { Context } from "hono";
import type { WireProtocol } from "../protocol/events.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { ChatRequest, RequestContext } from "../pipeline/types.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { Recorder } from "../telemetry/recorder.ts";
import type { Caller } from "./auth.ts";
import { parseJsonObject, readBodyLimited } from "./body.ts";
import { GatewayError } from "./errors.ts";
import { encodeAnswer } from "./respond.ts";
import { validateChatRequest } from "./validate.ts";

/** What the chat handlers need from the composition root. */
export interface ChatDeps {
  pipeline: Pipeline;
  metrics: Metrics;
  maxBodyBytes: number;
  /** Counts each request into the stats and the request log. */
  recorder?: Recorder;
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

/** A handler for one chat protocol. */
export function chatHandler(protocol: WireProtocol, deps: ChatDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const ctx = requestContext(c);
    const raw = await readBodyLimited(c.req.raw, deps.maxBodyBytes);
    const body = parseJsonObject(raw);
    const { model, stream } = validateChatRequest(protocol, body);
    const req: ChatRequest = {
      protocol,
      body,
      raw,
      model,
      stream,
      headers: c.req.raw.headers,
      signal: c.req.raw.signal,
    };
    let answer;
    try {
      answer = await deps.pipeline.run(req, ctx);
    } catch (e) {
      deps.recorder?.failed(req, ctx, e instanceof GatewayError ? e.status : 500);
      throw e;
    }
    if (deps.recorder) answer = deps.recorder.answered(req, ctx, answer);
    const headers = new Headers({
      "x-isartor-request-id": ctx.requestId,
      "x-isartor-layer": answer.layer,
      "x-isartor-deflected": answer.layer === "l3" ? "false" : "true",
    });
    if (answer.provider) headers.set("x-isartor-provider", answer.provider);
    const labels = { route: protocol, layer: answer.layer, status: String(answer.status) };
    deps.metrics.requests.inc(labels);
    deps.metrics.latency.observe((performance.now() - ctx.startedAt) / 1000, {
      layer: answer.layer,
    });
    return encodeAnswer(answer, { protocol, stream, body }, headers, (ok, err) => {
      if (ok) return;
      if (c.req.raw.signal.aborted) deps.metrics.clientAborts.inc({ route: protocol });
      else deps.metrics.streamErrors.inc({ route: protocol });
      void err;
    });
  };
}
