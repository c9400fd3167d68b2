/**
 * The exact-cache key, as specified in docs/cache-key.md.
 *
 * key = SHA-256 of the canonical JSON (RFC 8785 style) of
 * `{v, protocol, model, body, headers}` where `body` is the client's body
 * minus the fields that cannot change the answer, `model` is the model after
 * alias resolution, and `headers` the request headers that can change it
 * (`anthropic-beta`). Every key lives under a partition: tenant and provider.
 *
 * Unknown fields are kept: a field we have never heard of is assumed to
 * change the answer, so it can only cause a miss, never a wrong hit.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { WireProtocol } from "../protocol/events.ts";
import { canonicalJson } from "./canonical_json.ts";

/** The version of the key spec; bump it when the material changes. */
export const KEY_VERSION = 1;

/** Top-level fields left out of the key, per protocol, and why (see docs/cache-key.md). */
export const IGNORED_FIELDS: Readonly<Record<WireProtocol, readonly string[]>> = {
  openai_chat: [
    "stream", // transport mode: a recording replays as JSON or stream
    "stream_options", // transport detail (usage chunk), handled at replay
    "metadata", // client bookkeeping
    "user", // user id
    "safety_identifier", // user id
    "store", // whether OpenAI keeps the completion
    "service_tier", // latency/price tier, not the answer
    "prompt_cache_key", // provider prompt-cache routing hint
    "prompt_cache_retention", // provider prompt-cache retention
  ],
  openai_responses: [
    "stream",
    "stream_options",
    "metadata",
    "user",
    "safety_identifier",
    // `store` stays in the key here: a stored response's id can be continued with
    // previous_response_id, an unstored one cannot.
    "service_tier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "background", // delivery mode
    "client_metadata", // the client's session, thread and turn ids (Codex), never read by the model
  ],
  anthropic: [
    "stream",
    "metadata", // holds user_id
    "service_tier",
  ],
  // The model and the stream mode are in the URL (the model is keyed as for the others).
  gemini: [
    "labels", // billing labels (Vertex AI)
  ],
};

/** Request headers that can change an answer and so belong in the key. */
export const KEYED_HEADERS: readonly string[] = ["anthropic-beta"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function withoutCacheControl(v: unknown): unknown {
  if (!isObject(v) || !("cache_control" in v)) return v;
  const { cache_control: _, ...rest } = v;
  return rest;
}

/**
 * Removes Anthropic `cache_control` markers where the API accepts them
 * (system blocks, tools, content blocks, tool-result content) and nowhere
 * else: a JSON-schema property that happens to be named so is kept.
 */
function stripCacheControl(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  if (Array.isArray(out.system)) out.system = out.system.map(withoutCacheControl);
  if (Array.isArray(out.tools)) out.tools = out.tools.map(withoutCacheControl);
  if (Array.isArray(out.messages)) {
    out.messages = out.messages.map((m) => {
      if (!isObject(m) || !Array.isArray(m.content)) return withoutCacheControl(m);
      return {
        ...m,
        content: m.content.map((block) => {
          const b = withoutCacheControl(block);
          if (isObject(b) && Array.isArray(b.content)) {
            return { ...b, content: b.content.map(withoutCacheControl) };
          }
          return b;
        }),
      };
    });
  }
  return out;
}

/**
 * Fields of a Responses input item that name the item or its session, not its
 * meaning: `id` (a fresh id per item per session; Codex mints them) and Codex's
 * `internal_chat_message_metadata_passthrough` (turn id, creation time, and a
 * classification of the content, which is itself in the key). Two exceptions
 * keep `id`, because there the id *is* the content: an `item_reference`, and a
 * `reasoning` item without `encrypted_content` (the provider looks it up).
 */
function withoutItemIdentity(item: unknown): unknown {
  if (!isObject(item)) return item;
  const hasId = "id" in item;
  const hasMeta = "internal_chat_message_metadata_passthrough" in item;
  if (!hasId && !hasMeta) return item;
  const {
    id,
    internal_chat_message_metadata_passthrough: _meta,
    ...rest
  } = item;
  const idIsContent = item.type === "item_reference" ||
    (item.type === "reasoning" && typeof item.encrypted_content !== "string");
  return hasId && idIsContent ? { ...rest, id } : rest;
}

/** The material hashed into the key: everything that can change the answer. */
export function keyMaterial(
  protocol: WireProtocol,
  body: Record<string, unknown>,
  resolvedModel: string,
  headers: Headers,
  query = "",
): Record<string, unknown> {
  const ignored = IGNORED_FIELDS[protocol];
  let kept: Record<string, unknown> = {};
  for (const k of Object.keys(body)) {
    if (k !== "model" && !ignored.includes(k)) kept[k] = body[k];
  }
  kept = stripCacheControl(kept);
  if (protocol === "openai_responses" && Array.isArray(kept.input)) {
    kept.input = kept.input.map(withoutItemIdentity);
  }
  const keyed: Record<string, string> = {};
  for (const h of KEYED_HEADERS) {
    const v = headers.get(h);
    if (v !== null) keyed[h] = v.split(",").map((s) => s.trim()).filter(Boolean).sort().join(",");
  }
  const material: Record<string, unknown> = {
    v: KEY_VERSION,
    protocol,
    model: resolvedModel,
    body: kept,
    headers: keyed,
  };
  // Query parameters the client sent (`?beta=true`) are forwarded, so they are
  // keyed, sorted; only when present, so keys of requests without one are unchanged.
  if (query) material.query = [...new URLSearchParams(query)].map(([k, v]) => `${k}=${v}`).sort();
  return material;
}

/**
 * The exact-cache key of a request: a hex SHA-256 digest.
 *
 * @example
 * ```ts
 * const a = exactKey("openai_chat", { model: "m", messages: [], temperature: 0 }, "m", new Headers());
 * const b = exactKey("openai_chat", { temperature: 0, messages: [], model: "m" }, "m", new Headers());
 * a === b; // true: key order never changes the key
 * ```
 */
export function exactKey(
  protocol: WireProtocol,
  body: Record<string, unknown>,
  resolvedModel: string,
  headers: Headers,
  query = "",
): string {
  const canonical = canonicalJson(keyMaterial(protocol, body, resolvedModel, headers, query));
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * Why a request must not be served from (or written to) the exact cache, or
 * null when it may be. `previous_response_id` points at server-side state the
 * key cannot see.
 */
export function uncacheableReason(
  protocol: WireProtocol,
  body: Record<string, unknown>,
): string | null {
  if (protocol === "openai_responses") {
    if (body.previous_response_id) {
      return "previous_response_id refers to state held by the provider";
    }
    if (body.conversation) return "conversation refers to state held by the provider";
    const prompt = body.prompt;
    if (prompt && typeof prompt === "object" && !(prompt as Record<string, unknown>).version) {
      return "a stored prompt without a pinned version can change on the provider";
    }
  }
  if (protocol === "gemini") {
    if (body.cachedContent) return "cachedContent refers to state held by the provider";
    const n = (body.generationConfig as Record<string, unknown> | undefined)?.candidateCount;
    if (typeof n === "number" && n > 1) return "candidateCount > 1 asks for several samples";
  }
  if (typeof body.n === "number" && body.n > 1) return "n > 1 asks for several samples";
  return null;
}

/** Whether a request samples (temperature > 0, or unset, without a seed). */
export function isSampled(body: Record<string, unknown>): boolean {
  // Gemini keeps its sampling settings in generationConfig.
  const gen = body.generationConfig;
  const from = typeof gen === "object" && gen !== null && !("temperature" in body)
    ? gen as Record<string, unknown>
    : body;
  const t = from.temperature;
  const sampled = typeof t !== "number" || t > 0;
  return sampled && typeof from.seed !== "number";
}

/**
 * Why a cache layer must pass this request on: an uncacheable request, or a
 * sampled one when `cache_sampled_requests` is false. Null when it may cache.
 */
export function cacheBypassReason(
  protocol: WireProtocol,
  body: Record<string, unknown>,
  cacheSampled: boolean,
): string | null {
  const reason = uncacheableReason(protocol, body);
  if (reason) return reason;
  if (!cacheSampled && isSampled(body)) return "sampled request (cache_sampled_requests = false)";
  return null;
}
