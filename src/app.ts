/**
 * The composition root: config in, a running gateway's request handler out.
 *
 * The only place that builds backends, layers and routes. Nothing below it
 * reads the environment or global state.
 *
 * @module
 */

import { Hono } from "hono";
import type { Config } from "./config/schema.ts";
import { identifyCaller } from "./http/auth.ts";
import { errorEnvelope, GatewayError } from "./http/errors.ts";
import { jsonResponse } from "./http/respond.ts";
import { chatHandler, type GatewayEnv } from "./http/routes_chat.ts";
import { statsHandler } from "./http/routes_admin.ts";
import {
  countTokensHandler,
  type MiscDeps,
  modelsHandler,
  nativeChatHandler,
} from "./http/routes_misc.ts";
import { CloudLayer } from "./layers/cloud.ts";
import { ExactCacheLayer } from "./layers/exact_cache.ts";
import { buildRecordingCache } from "./cache/build.ts";
import type { ByteStore } from "./cache/byte_store.ts";
import {
  cacheDeleteHandler,
  cacheLookupHandler,
  cacheStatsHandler,
  cacheStoreHandler,
} from "./http/routes_cache.ts";
import type { Layer } from "./pipeline/types.ts";
import { Pipeline } from "./pipeline/pipeline.ts";
import type { WireProtocol } from "./protocol/events.ts";
import { buildTargets, type Target, targetProblem } from "./providers/targets.ts";
import { Metrics } from "./telemetry/metrics.ts";
import { createRecorder } from "./telemetry/recorder.ts";
import { VERSION } from "./version.ts";

/** A built gateway. */
export interface Gateway {
  /** The HTTP handler, for `Deno.serve`. */
  fetch: (req: Request) => Promise<Response>;
  config: Config;
  metrics: Metrics;
  targets: Target[];
  /** Releases backends (caches, stores). */
  close(): Promise<void>;
}

/** Options that tests inject. */
export interface GatewayOptions {
  /** The random source of retry jitter. */
  random?: () => number;
  /** Replaces the persistent cache store (tests inject failing or in-memory stores). */
  cacheStore?: ByteStore;
}

/** The protocol whose error envelope a path uses. */
export function protocolOfPath(path: string): WireProtocol {
  if (path.includes("/messages")) return "anthropic";
  if (path.includes("/responses")) return "openai_responses";
  return "openai_chat";
}

/** Builds the gateway from a validated config. Throws a one-line error if the config cannot work. */
export function createGateway(config: Config, options: GatewayOptions = {}): Gateway {
  const problem = targetProblem(config);
  if (problem) throw new GatewayError(500, "config_error", problem);
  const metrics = new Metrics();
  const targets = buildTargets(config);
  const cloud = new CloudLayer(targets, {
    timeoutMs: config.l3_timeout_secs * 1000,
    maxRetries: config.l3_max_retries,
    retryBaseMs: config.l3_retry_base_ms,
    retryMaxMs: config.l3_retry_max_ms,
    anthropicDefaultMaxTokens: config.anthropic_default_max_tokens,
    modelAliases: config.model_aliases,
    offline: config.offline_mode,
    random: options.random,
  }, metrics);
  const exact = config.cache_mode === "exact" || config.cache_mode === "both"
    ? new ExactCacheLayer(buildRecordingCache(config, metrics, options.cacheStore), {
      provider: targets[0].name,
      modelAliases: config.model_aliases,
      cacheSampled: config.cache_sampled_requests,
    }, metrics)
    : null;
  const layers: Layer[] = [...(exact ? [exact] : []), cloud];
  const pipeline = new Pipeline(layers);
  const recorder = createRecorder(config, targets[0].name);
  const chatDeps = { pipeline, metrics, maxBodyBytes: config.max_request_body_bytes, recorder };
  const health = () => ({
    status: "ok",
    version: VERSION,
    uptime_secs: Math.round((Date.now() - metrics.startedAt) / 1000),
    layers: {
      l1a: exact ? `on (${exact.cache.stats().backend})` : "off",
      l1b: "not built yet",
      l2: "not built yet",
      l3: "on",
    },
    provider: targets[0].name,
    fallbacks: targets.slice(1).map((t) => t.name),
    offline_mode: config.offline_mode,
    auth: config.gateway_api_key ? "gateway key required" : "open (loopback only)",
  });
  const miscDeps: MiscDeps = {
    pipeline,
    targets,
    modelAliases: config.model_aliases,
    maxBodyBytes: config.max_request_body_bytes,
    version: VERSION,
    health,
  };

  const app = new Hono<GatewayEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.use("*", async (c, next) => {
    const caller = identifyCaller(c.req.raw.headers, config.gateway_api_key, config.tenant_header);
    if (!caller.authorized) {
      throw new GatewayError(
        401,
        "authentication_error",
        "missing or wrong gateway API key; fix: send it as Authorization: Bearer <key> or x-api-key: <key>",
      );
    }
    c.set("caller", caller);
    c.set("requestId", crypto.randomUUID());
    await next();
  });
  for (const prefix of ["/v1", ""]) {
    app.post(`${prefix}/chat/completions`, chatHandler("openai_chat", chatDeps));
    app.post(`${prefix}/responses`, chatHandler("openai_responses", chatDeps));
    app.post(`${prefix}/messages`, chatHandler("anthropic", chatDeps));
    app.post(`${prefix}/messages/count_tokens`, countTokensHandler(miscDeps));
    app.get(`${prefix}/models`, modelsHandler(miscDeps));
  }
  app.post("/api/chat", nativeChatHandler(miscDeps));
  app.get("/health", (c) => c.json(health()));
  app.get("/api/v1/stats", statsHandler(recorder.stats));
  const cacheDeps = {
    layer: exact,
    config,
    defaultModel: targets[0].model || targets[0].spec.defaultModel,
  };
  app.get("/api/v1/cache/stats", cacheStatsHandler(cacheDeps));
  app.delete("/api/v1/cache", cacheDeleteHandler(cacheDeps));
  app.post("/api/v1/cache/lookup", cacheLookupHandler(cacheDeps));
  app.post("/api/v1/cache/store", cacheStoreHandler(cacheDeps));
  app.get("/metrics", () =>
    new Response(metrics.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }));

  app.notFound((c) => {
    const path = c.req.path;
    const known = /\/(chat\/completions|responses|messages(\/count_tokens)?|models|api\/chat)$/
      .test(path);
    const status = known ? 405 : 404;
    const message = known
      ? `${c.req.method} is not allowed on ${path}; fix: use ${
        path.endsWith("models") ? "GET" : "POST"
      }`
      : `no route ${c.req.method} ${path}; fix: use /v1/chat/completions, /v1/responses, /v1/messages, /v1/models or /api/chat`;
    return jsonResponse(status, errorEnvelope(protocolOfPath(path), status, message));
  });
  app.onError((err, c) => {
    const protocol = protocolOfPath(c.req.path);
    if (err instanceof GatewayError) {
      metrics.requests.inc({ route: protocol, layer: "gateway", status: String(err.status) });
      return jsonResponse(
        err.status,
        errorEnvelope(protocol, err.status, err.message, err.type),
        new Headers(err.headers),
      );
    }
    metrics.requests.inc({ route: protocol, layer: "gateway", status: "500" });
    console.error(`[isartor] internal error on ${c.req.method} ${c.req.path}:`, err);
    return jsonResponse(
      500,
      errorEnvelope(protocol, 500, `internal gateway error: ${err.message}`),
    );
  });

  return {
    fetch: (req: Request) => Promise.resolve(app.fetch(req)),
    config,
    metrics,
    targets,
    close: async () => {
      await recorder.close();
      await exact?.cache.close();
    },
  };
}
