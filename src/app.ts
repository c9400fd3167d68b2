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
import { GatewayKeyRing } from "./http/gateway_keys.ts";
import { isModelRoute, KeyQuotas, meterKey } from "./http/key_quota.ts";
import { asGatewayError, errorEnvelope, GatewayError } from "./http/errors.ts";
import { jsonResponse } from "./http/respond.ts";
import { withOriginGuard } from "./http/origin_guard.ts";
import {
  type ChatEndpoint,
  chatEndpoint,
  chatHandler,
  type GatewayEnv,
} from "./http/routes_chat.ts";
import { statsHandler } from "./http/routes_admin.ts";
import { isWebSocketUpgrade, plainGetError, wsResponsesHandler } from "./http/ws_responses.ts";
import {
  geminiActionHandler,
  geminiModelHandler,
  geminiModelsHandler,
  isGeminiClient,
} from "./http/routes_gemini.ts";
import {
  countTokensHandler,
  type MiscDeps,
  modelsHandler,
  nativeChatHandler,
} from "./http/routes_misc.ts";
import { CloudLayer } from "./layers/cloud.ts";
import { FetchClient, Http1Client } from "./providers/http1_client.ts";
import { ExactCacheLayer } from "./layers/exact_cache.ts";
import { SemanticCacheLayer } from "./layers/semantic_cache.ts";
import { RouterLayer } from "./layers/router.ts";
import type { SlmBackend } from "./slm/backend.ts";
import { buildRouterBackend, routerProblem } from "./slm/build.ts";
import type { ModelEnv } from "./embed/models.ts";
import { ContextOptimiserLayer } from "./layers/context_optimiser.ts";
import { buildCacheBackends, buildRecordingCache } from "./cache/build.ts";
import type { Embedder } from "./embed/embedder.ts";
import { buildEmbedder } from "./embed/build.ts";
import { similarityThreshold } from "./semantic/threshold.ts";
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
import { buildTargets, type Target, targetProblem, upstreamProtocol } from "./providers/targets.ts";
import { resolveModel } from "./layers/cloud_body.ts";
import type { ChatRequest } from "./pipeline/types.ts";
import { Metrics } from "./telemetry/metrics.ts";
import { createRecorder } from "./telemetry/recorder.ts";
import { Tracing } from "./telemetry/tracing.ts";
import { BodyLog, configuredSecrets, requestLogDir, withBodyLog } from "./telemetry/body_log.ts";
import { VERSION } from "./version.ts";
import { healthProbe } from "./telemetry/backend_probe.ts";
import { McpHttpEndpoint } from "./mcp/http.ts";
import { dashboardResponse } from "./dashboard/routes.ts";
import { configReport, providersReport, timelineReport } from "./dashboard/admin_api.ts";

/** A built gateway. */
export interface Gateway {
  /** The HTTP handler, for `Deno.serve`. */
  fetch: (req: Request) => Promise<Response>;
  config: Config;
  metrics: Metrics;
  targets: Target[];
  /** Ends the long-lived MCP sessions and their streams, so a graceful shutdown does not wait on them. */
  closeSessions?(): Promise<void>;
  /** Releases backends (caches, stores). */
  close(): Promise<void>;
}

/** Options that tests inject. */
export interface GatewayOptions {
  /** The random source of retry jitter. */
  random?: () => number;
  /** Replaces the persistent cache store (tests inject failing or in-memory stores). */
  cacheStore?: ByteStore;
  /** Replaces the semantic cache's embedder (tests inject failing or slow ones). */
  embedder?: Embedder;
  /** Where each config key came from (the CLI's loader knows; shown by the dashboard). */
  configOrigins?: Record<string, string>;
  /** Replaces L2's small model (tests inject a loaded or failing one). */
  slm?: SlmBackend | Promise<SlmBackend>;
  /** HF_HOME and HOME, for finding the router model (the gateway reads no environment). */
  modelEnv?: ModelEnv;
}

/** The protocol whose error envelope a path uses. */
export function protocolOfPath(path: string): WireProtocol {
  if (path.startsWith("/v1beta/") || /\/models\/[^/]+:/.test(path)) return "gemini";
  if (path.includes("/messages")) return "anthropic";
  if (path.includes("/responses")) return "openai_responses";
  return "openai_chat";
}

/** Builds the gateway from a validated config. Throws a one-line error if the config cannot work. */
export function createGateway(config: Config, options: GatewayOptions = {}): Gateway {
  const problem = targetProblem(config) ?? routerProblem(config);
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
    client: config.l3_http_client === "fetch" ? new FetchClient() : new Http1Client(),
  }, metrics);
  // What identifies the upstream in cache keys: the primary provider and its URL
  // (partition), and the model a request will actually reach (key material).
  const primary = targets[0];
  const upstreamId = `${primary.name}@${primary.baseUrl}`;
  const upstreamModel = (protocol: WireProtocol, model: string) =>
    resolveModel(
      { protocol, model } as ChatRequest,
      primary,
      upstreamProtocol(primary, protocol),
      config.model_aliases,
    );
  // One persistent store for both caches; with Redis also the feed and lock replicas share.
  const backends = buildCacheBackends(
    options.cacheStore ? { ...config, cache_backend: "memory" } : config,
    metrics,
  );
  const store = options.cacheStore ?? backends.store;
  const exact = config.cache_mode === "exact" || config.cache_mode === "both"
    ? new ExactCacheLayer(buildRecordingCache(config, metrics, store, backends.feed), {
      provider: upstreamId,
      upstreamModel,
      cacheSampled: config.cache_sampled_requests,
      sharedFlight: backends.flight,
    }, metrics)
    : null;
  let semantic: SemanticCacheLayer | null = null;
  if (config.cache_mode === "semantic" || config.cache_mode === "both") {
    const embedder = options.embedder ?? buildEmbedder(config);
    semantic = new SemanticCacheLayer(embedder, store, {
      provider: upstreamId,
      upstreamModel,
      cacheSampled: config.cache_sampled_requests,
      threshold: similarityThreshold(config, embedder),
      ttlMs: config.cache_ttl_secs * 1000,
      maxEntries: config.cache_max_capacity,
      maxEntriesPerPartition: config.semantic_max_entries_per_partition,
      maxBytes: config.cache_max_bytes,
      feed: backends.feed,
    }, metrics);
  }
  const router = config.enable_slm_router
    ? RouterLayer.fromConfig(
      config,
      options.slm ?? buildRouterBackend(config, options.modelEnv),
      metrics,
    )
    : null;
  // L2.5 rewrites only what reaches L3: after the caches, whose keys use the original request.
  const optimiser = config.enable_context_optimizer
    ? new ContextOptimiserLayer({
      minify: config.context_optimizer_minify,
      dedup: config.context_optimizer_dedup,
    })
    : null;
  const layers: Layer[] = [
    ...(exact ? [exact] : []),
    ...(semantic ? [semantic] : []),
    ...(router ? [router] : []),
    ...(optimiser ? [optimiser] : []),
    cloud,
  ];
  const pipeline = new Pipeline(layers, metrics.observeLayer);
  const recorder = createRecorder(config, targets[0].name, metrics);
  const chatDeps = {
    pipeline,
    metrics,
    maxBodyBytes: config.max_request_body_bytes,
    readTimeoutMs: config.request_read_timeout_secs * 1000,
    recorder,
    exact,
    tracing: config.enable_monitoring ? new Tracing(config.otel_capture_content) : null,
  };
  const remoteBackends = healthProbe(config);
  const health = async () => ({
    status: "ok",
    version: VERSION,
    uptime_secs: Math.round((Date.now() - metrics.startedAt) / 1000),
    layers: {
      l1a: exact ? `on (${exact.cache.stats().backend})` : "off",
      l1b: semantic ? semantic.describe() : "off",
      l2: router ? router.describe() : "off",
      l2_5: optimiser ? "on" : "off",
      l3: "on",
    },
    cache_store: backends.status(),
    remote_backends: await remoteBackends(),
    embedder: semantic
      ? {
        backend: semantic.embedder.name,
        model: semantic.embedder.model,
        dims: semantic.embedder.dims,
        similarity_threshold: semantic.options.threshold,
      }
      : null,
    provider: targets[0].name,
    fallbacks: targets.slice(1).map((t) => t.name),
    offline_mode: config.offline_mode,
    auth: config.gateway_api_key || config.gateway_keys.length
      ? "gateway key required"
      : "open (loopback only)",
  });
  const miscDeps: MiscDeps = {
    pipeline,
    targets,
    modelAliases: config.model_aliases,
    maxBodyBytes: config.max_request_body_bytes,
    readTimeoutMs: config.request_read_timeout_secs * 1000,
    upstreamTimeoutMs: config.l3_timeout_secs * 1000,
    version: VERSION,
    health,
    recorder,
  };

  const app = new Hono<GatewayEnv>();
  const keyRing = new GatewayKeyRing(config.gateway_keys);
  const quotas = new KeyQuotas();
  /** The caller of a request; `metered`: a model request, counted against its key's quota. */
  const authenticate = (headers: Headers, queryKey: string | null = null, metered = false) => {
    const caller = identifyCaller(headers, {
      gatewayKey: config.gateway_api_key,
      tenantHeader: config.tenant_header,
      queryKey,
      adminKey: config.admin_api_key,
      keys: keyRing,
    });
    if (!caller.authorized) {
      throw new GatewayError(
        401,
        "authentication_error",
        "missing or wrong gateway API key; fix: send it as Authorization: Bearer <key>, x-api-key: <key> or (Gemini) x-goog-api-key: <key>",
      );
    }
    if (metered && caller.key) meterKey(quotas, caller, caller.key);
    return caller;
  };
  // Gemini clients may send their key as ?key=.
  // Only Gemini's routes take a key in the query (`?key=`); elsewhere `key` means
  // something else (DELETE /api/v1/cache?key=DIGEST) and is never a credential.
  const queryKey = (url: string, path: string) =>
    url.includes("key=") && protocolOfPath(path) === "gemini"
      ? new URL(url).searchParams.get("key")
      : null;
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // A short status at the root (HEAD too): clients and load balancers probe it.
  app.get("/", (c) => c.json({ status: "ok", service: "isartor", version: VERSION }));
  // The page and its files hold no data: served before the key check (the page asks for the key).
  app.use("/dashboard*", async (c, next) => {
    const page = dashboardResponse(c.req.path, c.req.method);
    if (page) return page;
    await next();
  });
  app.use("*", async (c, next) => {
    const metered = c.req.method === "POST" && isModelRoute(c.req.path);
    c.set("caller", authenticate(c.req.raw.headers, queryKey(c.req.url, c.req.path), metered));
    c.set("requestId", crypto.randomUUID());
    await next();
  });
  const geminiModels = geminiModelsHandler(miscDeps);
  for (const prefix of ["/v1", ""]) {
    app.post(`${prefix}/chat/completions`, chatHandler("openai_chat", chatDeps));
    app.post(`${prefix}/responses`, chatHandler("openai_responses", chatDeps));
    app.get(`${prefix}/responses`, (c) => {
      throw plainGetError(c.req.path);
    });
    app.post(`${prefix}/messages`, chatHandler("anthropic", chatDeps));
    app.post(`${prefix}/messages/count_tokens`, countTokensHandler(miscDeps));
    const models = modelsHandler(miscDeps);
    // A Gemini client (x-goog-api-key or ?key=) gets Gemini's shape.
    app.get(`${prefix}/models`, (c) => isGeminiClient(c) ? geminiModels(c) : models(c));
  }
  // The Gemini API: the model and the method are in the path.
  const geminiChat = chatEndpoint("gemini", chatDeps);
  for (const prefix of ["/v1beta", "/v1"]) {
    app.post(`${prefix}/models/:action`, geminiActionHandler(geminiChat, miscDeps));
    app.get(`${prefix}/models/:action`, geminiModelHandler(miscDeps));
  }
  app.get("/v1beta/models", geminiModels);
  app.post("/api/chat", nativeChatHandler(miscDeps));
  app.get("/health", async (c) => c.json(await health()));
  app.get("/api/v1/stats", statsHandler(recorder.stats));
  app.get("/api/v1/timeline", (c) => {
    const minutes = Number(c.req.query("minutes") ?? 60);
    const caller = c.get("caller");
    const n = Number.isFinite(minutes) ? minutes : 60;
    return c.json(timelineReport(recorder.timeline, n, caller.admin ? undefined : caller.tenant));
  });
  app.get(
    "/api/v1/providers",
    (c) => c.json(providersReport(targets, metrics.upstreamAttempts, metrics.fallbacks)),
  );
  app.get("/api/v1/config", (c) => c.json(configReport(config, options.configOrigins ?? {})));
  const cacheDeps = {
    backends,
    layer: exact,
    semantic,
    config,
    defaultModel: targets[0].model || targets[0].spec.defaultModel,
  };
  app.get("/api/v1/cache/stats", cacheStatsHandler(cacheDeps));
  app.delete("/api/v1/cache", cacheDeleteHandler(cacheDeps));
  app.post("/api/v1/cache/lookup", cacheLookupHandler(cacheDeps));
  app.post("/api/v1/cache/store", cacheStoreHandler(cacheDeps));
  // MCP over Streamable HTTP; its tools call this gateway's own routes (src/mcp/).
  const mcp = new McpHttpEndpoint({
    gatewayFetch: (req) => fetch(req),
    version: VERSION,
    idleMs: config.mcp_session_idle_secs * 1000,
    maxBodyBytes: config.max_request_body_bytes,
    tenantHeader: config.tenant_header,
  });
  for (const path of ["/mcp", "/mcp/"]) {
    app.all(path, (c) => mcp.handle(c.req.raw, c.get("caller").tenant));
  }
  app.get("/metrics", () =>
    new Response(metrics.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }));

  /**
   * Every request the gateway refuses itself (auth, validation, size, no route)
   * is counted like an answered one: metrics, stats, the request log, and
   * `X-Isartor-Layer: gateway` on the response.
   */
  const refused = (
    status: number,
    body: Record<string, unknown>,
    path: string,
    headers: Headers,
    extra: Record<string, string> = {},
    err?: unknown,
    tenant = "",
  ): Response => {
    const protocol = path === "/api/chat" ? "native" : protocolOfPath(path);
    const requestId = crypto.randomUUID();
    if (!recorder.counted(err)) {
      recorder.failed({ protocol, headers }, {
        requestId,
        startedAt: performance.now(),
        tenant,
        clientCredential: null,
      }, status);
    }
    return jsonResponse(status, body, {
      ...extra,
      "x-isartor-layer": "gateway",
      "x-isartor-request-id": requestId,
    });
  };
  app.notFound((c) => {
    const path = c.req.path;
    const known = /\/(chat\/completions|responses|messages(\/count_tokens)?|models|api\/chat)$/
      .test(path);
    const status = known ? 405 : 404;
    const message = known
      ? `${c.req.method} is not allowed on ${path}; fix: use ${
        path.endsWith("models") ? "GET" : "POST"
      }`
      : `no route ${c.req.method} ${path}; fix: use /v1/chat/completions, /v1/responses, /v1/messages, /v1beta/models/{model}:generateContent, /v1/models or /api/chat`;
    return refused(
      status,
      errorEnvelope(protocolOfPath(path), status, message),
      path,
      c.req.raw.headers,
      {},
      undefined,
      c.get("caller")?.tenant,
    );
  });
  /** The error response of a request; `tenant` once the caller is known (their stats count it). */
  const errorResponse = (
    err: Error,
    path: string,
    headers: Headers,
    method: string,
    tenant = "",
  ): Response => {
    const protocol = protocolOfPath(path);
    err = asGatewayError(err);
    if (err instanceof GatewayError) {
      return refused(
        err.status,
        err.openAIFields
          ? errorEnvelope(
            protocol,
            err.status,
            err.message,
            err.openAIFields.code,
            err.openAIFields.param,
          )
          : errorEnvelope(protocol, err.status, err.message, err.type),
        path,
        headers,
        { ...err.headers },
        err,
        tenant,
      );
    }
    console.error(`[isartor] internal error on ${method} ${path}:`, err);
    return refused(
      500,
      errorEnvelope(protocol, 500, `internal gateway error: ${err.message}`),
      path,
      headers,
      {},
      err,
      tenant,
    );
  };
  app.onError((err, c) =>
    errorResponse(err, c.req.path, c.req.raw.headers, c.req.method, c.get("caller")?.tenant)
  );

  // The hot path: POST to a chat route skips the router (about a tenth of the
  // gateway's own CPU per request); everything else goes through Hono.
  const hot = new Map<string, ChatEndpoint>();
  for (const prefix of ["/v1", ""]) {
    hot.set(`${prefix}/chat/completions`, chatEndpoint("openai_chat", chatDeps));
    hot.set(`${prefix}/responses`, chatEndpoint("openai_responses", chatDeps));
    hot.set(`${prefix}/messages`, chatEndpoint("anthropic", chatDeps));
  }
  // Responses over WebSocket: each message is served as a POST by this gateway.
  const upgradeResponses = wsResponsesHandler((r) => fetch(r));
  const fetch = async (req: Request): Promise<Response> => {
    if (isWebSocketUpgrade(req)) {
      const path = new URL(req.url).pathname;
      if (path === "/v1/responses" || path === "/responses") {
        try {
          authenticate(req.headers);
          return upgradeResponses(req);
        } catch (e) {
          return errorResponse(
            e instanceof Error ? e : new Error(String(e)),
            path,
            req.headers,
            "GET",
          );
        }
      }
    }
    if (req.method === "POST") {
      const url = req.url;
      const start = url.indexOf("/", url.indexOf("//") + 2);
      const q = url.indexOf("?", start);
      const path = q < 0 ? url.slice(start) : url.slice(start, q);
      const endpoint = hot.get(path);
      if (endpoint) {
        let tenant = "";
        try {
          const caller = authenticate(req.headers, null, true);
          tenant = caller.tenant;
          return await endpoint(req, caller, crypto.randomUUID());
        } catch (e) {
          return errorResponse(
            e instanceof Error ? e : new Error(String(e)),
            path,
            req.headers,
            "POST",
            tenant,
          );
        }
      }
    }
    return app.fetch(req);
  };

  // Opt-in body logging wraps everything, refusals included (src/telemetry/body_log.ts).
  const bodyLog = config.enable_request_logs
    ? new BodyLog({
      dir: requestLogDir(config),
      secrets: configuredSecrets(config),
      maxRequestBytes: config.max_request_body_bytes,
    })
    : null;
  // Web pages and rebound domains are refused before any route (docs/security.md).
  const guarded = withOriginGuard(
    {
      bindHost: config.host_port.slice(0, config.host_port.lastIndexOf(":")),
      allowedHosts: config.allowed_hosts,
      allowedOrigins: config.allowed_origins,
    },
    fetch,
    (err, path, method, headers) => errorResponse(err, path, headers, method),
  );

  return {
    fetch: bodyLog ? withBodyLog(bodyLog, guarded) : guarded,
    config,
    metrics,
    targets,
    closeSessions: () => mcp.close(),
    close: async () => {
      await mcp.close();
      await bodyLog?.flush();
      cloud.close();
      await recorder.close();
      await semantic?.close();
      await router?.close();
      // The exact cache closes the shared store; without it, the store is closed here.
      if (exact) await exact.cache.close();
      else await store?.close();
    },
  };
}
