/**
 * Traces: a root span `gateway_request` per request and a child per layer
 * that ran (`l1a_exact_cache`, `l1b_semantic_cache`, `context_optimise`, ...; `l3_cloud_llm` once
 * per provider attempt, so retries and fallbacks show).
 *
 * Built on `@opentelemetry/api`; Deno's built-in OpenTelemetry exports the
 * spans (OTLP over HTTP) when the process starts with `OTEL_DENO=true`, which
 * `isartor up` sets only with `enable_monitoring`. With it off, nothing here
 * runs: the request context carries no trace.
 *
 * Attributes never hold a key or prompt text, unless `otel_capture_content`
 * is set (then the last user turn, cut to 1,000 characters).
 *
 * @module
 */

import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";
import { VERSION } from "../version.ts";
import { detectClientTool } from "./client_tools.ts";
import type { RequestRecord } from "./stats.ts";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The parent context of a W3C `traceparent` header, or the root context when
 * there is none (or it is malformed, or all zeros).
 */
export function parentContext(traceparent: string | null): Context {
  const m = traceparent ? TRACEPARENT.exec(traceparent.trim().toLowerCase()) : null;
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return context.active();
  return trace.setSpanContext(context.active(), {
    traceId: m[1],
    spanId: m[2],
    traceFlags: parseInt(m[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** The `traceparent` header that names a span as the parent. */
export function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-0${c.traceFlags & TraceFlags.SAMPLED}`;
}

/** A short, stable hash of the tenant (FNV-1a, 32 bits): groups spans, names no one. */
export function tenantHash(tenant: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < tenant.length; i++) {
    h ^= tenant.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The span of one layer: ended when it passes to the next layer or answers. */
export interface LayerSpan {
  /** The layer called `next()`: it did not answer. */
  passed(): void;
  /** The layer answered (status of the answer). */
  answered(status: number): void;
  /** The layer threw. */
  failed(error: unknown): void;
}

/** One request's trace. */
export class RequestTrace {
  constructor(
    readonly tracer: Tracer,
    readonly root: Span,
    readonly captureContent: boolean,
  ) {}

  #child(name: string, attributes: Record<string, string | number> = {}): Span {
    return this.tracer.startSpan(
      name,
      { kind: SpanKind.INTERNAL, attributes },
      trace.setSpan(context.active(), this.root),
    );
  }

  /** A layer's span. */
  layer(name: string): LayerSpan {
    const span = this.#child(name);
    let ended = false;
    const end = (outcome: string, status?: number) => {
      if (ended) return;
      ended = true;
      span.setAttribute("isartor.outcome", outcome);
      if (status !== undefined) span.setAttribute("http.response.status_code", status);
      span.end();
    };
    return {
      passed: () => end("pass"),
      answered: (status) => end("answered", status),
      failed: (error) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        end("error");
      },
    };
  }

  /** One upstream attempt (`l3_cloud_llm`): its span and the `traceparent` to send upstream. */
  attempt(provider: string, model: string, position: number, attempt: number) {
    const span = this.tracer.startSpan("l3_cloud_llm", {
      kind: SpanKind.CLIENT,
      attributes: {
        "isartor.provider": provider,
        "gen_ai.request.model": model,
        "isartor.fallback_position": position,
        "isartor.attempt": attempt,
      },
    }, trace.setSpan(context.active(), this.root));
    return {
      traceparent: traceparentOf(span),
      end(outcome: string, status?: number) {
        span.setAttribute("isartor.outcome", outcome);
        if (status !== undefined) span.setAttribute("http.response.status_code", status);
        if (outcome !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        span.end();
      },
    };
  }

  /** Names the last user turn, when content capture is on. */
  content(lastTurn: string): void {
    if (this.captureContent) this.root.setAttribute("isartor.prompt", lastTurn.slice(0, 1000));
  }

  /** Ends the root span with what the request came to. */
  finish(r: RequestRecord): void {
    const s = this.root;
    s.setAttributes({
      "isartor.layer": r.layer,
      "isartor.protocol": r.route,
      "isartor.client_tool": r.tool,
      "isartor.provider": r.provider,
      "gen_ai.request.model": r.model,
      "http.response.status_code": r.status,
      "isartor.stream": r.stream,
    });
    const deflected = r.layer !== "l3" && r.layer !== "gateway" && r.status < 400;
    if (r.inputTokens !== undefined) {
      s.setAttribute(
        deflected ? "isartor.tokens_saved_in" : "gen_ai.usage.input_tokens",
        r.inputTokens,
      );
    }
    if (r.outputTokens !== undefined) {
      s.setAttribute(
        deflected ? "isartor.tokens_saved_out" : "gen_ai.usage.output_tokens",
        r.outputTokens,
      );
    }
    if (r.similarity !== undefined) s.setAttribute("isartor.similarity", r.similarity);
    if (r.status >= 400) s.setStatus({ code: SpanStatusCode.ERROR, message: String(r.status) });
    s.end();
  }
}

/** Starts traces for requests; null when monitoring is off. */
export class Tracing {
  readonly tracer: Tracer = trace.getTracer("isartor", VERSION);
  constructor(readonly captureContent: boolean) {}

  /** The trace of one request, continuing the client's `traceparent`. */
  start(protocol: string, headers: Headers, requestId: string, tenant: string): RequestTrace {
    const root = this.tracer.startSpan("gateway_request", {
      kind: SpanKind.SERVER,
      attributes: {
        "isartor.protocol": protocol,
        "isartor.request_id": requestId,
        "isartor.client_tool": detectClientTool(headers),
        "isartor.tenant_hash": tenantHash(tenant),
      },
    }, parentContext(headers.get("traceparent")));
    return new RequestTrace(this.tracer, root, this.captureContent);
  }
}
