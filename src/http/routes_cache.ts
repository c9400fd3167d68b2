/**
 * The cache admin API, authenticated like every route:
 * `GET /api/v1/cache/stats`, `DELETE /api/v1/cache` (the caller's own tenant,
 * or one key), and the seed's `POST /api/v1/cache/lookup` and `/store`.
 *
 * Every operation is confined to the caller's tenant partition.
 *
 * @module
 */

import type { Context } from "hono";
import { recordJson } from "../cache/recording.ts";
import type { ExactCacheLayer } from "../layers/exact_cache.ts";
import type { SemanticCacheLayer } from "../layers/semantic_cache.ts";
import { CODECS } from "../protocol/codecs.ts";
import type { WireProtocol } from "../protocol/events.ts";
import type { Config } from "../config/schema.ts";
import type { CacheBackends } from "../cache/build.ts";
import { parseJsonObject, readBodyLimited } from "./body.ts";
import { GatewayError } from "./errors.ts";
import { jsonResponse } from "./respond.ts";
import type { GatewayEnv } from "./routes_chat.ts";
import { validateChatRequest } from "./validate.ts";

const PROTOCOLS: readonly WireProtocol[] = ["openai_chat", "anthropic", "openai_responses"];

/** What the cache routes need. */
export interface CacheRouteDeps {
  layer: ExactCacheLayer | null;
  /** The semantic cache (L1b), when on: its stats, and its entries go with a tenant's. */
  semantic?: SemanticCacheLayer | null;
  config: Config;
  /** The model `{prompt}` requests use (the primary provider's). */
  defaultModel: string;
  /** The persistent store and what replicas share (for the shared entry count). */
  backends?: CacheBackends;
}

function requireLayer(deps: CacheRouteDeps): ExactCacheLayer {
  if (!deps.layer) {
    throw new GatewayError(
      409,
      "cache_disabled",
      `the exact cache is off (cache_mode = "${deps.config.cache_mode}"); fix: set cache_mode = "exact" or "both"`,
    );
  }
  return deps.layer;
}

/**
 * Reads `{prompt, model?}` (the native API's shape) or `{request, protocol?}`
 * into the chat request the cache would see.
 */
async function readCacheRequest(c: Context<GatewayEnv>, deps: CacheRouteDeps) {
  const input = parseJsonObject(
    await readBodyLimited(
      c.req.raw,
      deps.config.max_request_body_bytes,
      deps.config.request_read_timeout_secs * 1000,
    ),
  );
  if (typeof input.prompt === "string") {
    const model = typeof input.model === "string" && input.model ? input.model : deps.defaultModel;
    const body = { model, messages: [{ role: "user", content: input.prompt }] };
    return { input, protocol: "openai_chat" as WireProtocol, body };
  }
  const protocol = (input.protocol ?? "openai_chat") as WireProtocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new GatewayError(
      400,
      "invalid_request_error",
      `protocol: "${protocol}" is not one of ${PROTOCOLS.join(", ")}`,
    );
  }
  if (typeof input.request !== "object" || input.request === null || Array.isArray(input.request)) {
    throw new GatewayError(
      400,
      "invalid_request_error",
      'send {"prompt": "..."} or {"request": {chat request body}, "protocol": "openai_chat"}',
    );
  }
  const body = input.request as Record<string, unknown>;
  validateChatRequest(protocol, body);
  return { input, protocol, body };
}

/** `GET /api/v1/cache/stats` */
export function cacheStatsHandler(deps: CacheRouteDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const layer = deps.layer;
    let shared: Record<string, unknown> | null = null;
    if (deps.backends?.feed) {
      // Entries in the shared store over all replicas; the counters above stay per replica.
      const entries = await deps.backends.sharedCounts().catch((e) => ({
        error: (e as Error).message,
      }));
      shared = { store: deps.backends.status(), entries, feed: deps.backends.feed.stats() };
    }
    return c.json({
      mode: deps.config.cache_mode,
      backend: layer?.cache.stats().backend ?? "off",
      shared,
      ttl_secs: deps.config.cache_ttl_secs,
      sampled_requests: deps.config.cache_sampled_requests ? "cached" : "bypassed",
      l1a: layer ? { ...layer.counters, ...layer.cache.stats() } : null,
      l1b: deps.semantic
        ? {
          ...deps.semantic.counters,
          ...deps.semantic.index.stats(),
          embedder: deps.semantic.embedder.name,
          similarity_threshold: deps.semantic.options.threshold,
        }
        : null,
    });
  };
}

/** `DELETE /api/v1/cache[?key=DIGEST]`: the caller's own entries only. */
export function cacheDeleteHandler(deps: CacheRouteDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    // With only the semantic cache on, a tenant may still clear its entries.
    const layer = deps.semantic && !deps.layer && !c.req.query("key") ? null : requireLayer(deps);
    const tenant = c.get("caller").tenant;
    const digest = c.req.query("key");
    if (digest !== undefined && !/^[0-9a-f]{64}$/.test(digest)) {
      throw new GatewayError(
        400,
        "invalid_request_error",
        "key: expected a 64-character hex digest",
      );
    }
    if (digest && layer) {
      const deleted = await layer.cache.deletePrefix(
        ["l1a", tenant, layer.options.provider, digest],
      );
      return c.json({ deleted, scope: "key" });
    }
    let deleted = layer ? await layer.cache.deletePrefix(layer.tenantPrefix(tenant)) : 0;
    if (deps.semantic) deleted += await deps.semantic.deleteTenant(tenant);
    return c.json({ deleted, scope: "tenant" });
  };
}

/** `POST /api/v1/cache/lookup`: the cached answer (200) or 204 on a miss. */
export function cacheLookupHandler(deps: CacheRouteDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const layer = requireLayer(deps);
    const { protocol, body } = await readCacheRequest(c, deps);
    const { digest, key } = layer.keyOf(protocol, body, c.req.raw.headers, c.get("caller").tenant);
    const rec = await layer.cache.get(key);
    if (!rec) {
      return new Response(null, { status: 204, headers: { "x-isartor-cache-key": digest } });
    }
    const answer = CODECS[protocol].encodeJson(rec.events);
    const text = rec.events.map((e) => (e.type === "text" ? e.text : "")).join("");
    const headers = { "x-isartor-layer": "l1a", "x-isartor-cache-key": digest };
    return jsonResponse(200, { hit: true, key: digest, response: text, answer }, headers);
  };
}

/** `POST /api/v1/cache/store`: stores `{prompt, response}` or `{request, response, protocol?}`. */
export function cacheStoreHandler(deps: CacheRouteDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const layer = requireLayer(deps);
    const { input, protocol, body } = await readCacheRequest(c, deps);
    let answerBody: unknown = input.response;
    if (typeof answerBody === "string") {
      // A bare text answer, as the native API and MCP tools store it.
      const id = `isartor-${crypto.randomUUID()}`;
      answerBody = CODECS[protocol].encodeJson([
        { type: "start", id, model: String(body.model ?? "") },
        { type: "text", text: answerBody },
        { type: "stop", reason: "end_turn" },
      ]);
    }
    const rec = recordJson(protocol, new TextEncoder().encode(JSON.stringify(answerBody)));
    if (!rec) {
      throw new GatewayError(
        400,
        "invalid_request_error",
        `response: not a complete ${protocol} answer (it needs content and a stop reason); send the provider's JSON body or a string`,
      );
    }
    const { digest, key } = layer.keyOf(protocol, body, c.req.raw.headers, c.get("caller").tenant);
    await layer.cache.set(key, rec);
    return jsonResponse(201, { stored: true, key: digest });
  };
}
