/**
 * The routes around the chat endpoints: models, token counting, the native
 * `{prompt}` API, health and metrics.
 *
 * @module
 */

import type { Context } from "hono";
import { CODECS } from "../protocol/codecs.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { ChatRequest } from "../pipeline/types.ts";
import type { Target } from "../providers/targets.ts";
import { authHeaders, endpointUrl, upstreamAuth } from "../providers/targets.ts";
import { relayHeaders } from "../layers/cloud.ts";
import { parseJsonObject, readBodyLimited } from "./body.ts";
import { GatewayError, upstreamErrorMessage } from "./errors.ts";
import { encodeAnswer, jsonResponse } from "./respond.ts";
import { type GatewayEnv, requestContext } from "./routes_chat.ts";
import { validateChatRequest } from "./validate.ts";
import type { Recorder } from "../telemetry/recorder.ts";

const MODELS_TIMEOUT_MS = 5000;

/** What these routes need. */
export interface MiscDeps {
  pipeline: Pipeline;
  targets: Target[];
  modelAliases: Record<string, string>;
  maxBodyBytes: number;
  /** Most milliseconds a client may take to send its body. */
  readTimeoutMs?: number;
  /** The per-attempt upstream timeout (`l3_timeout_secs`), also for token counting. */
  upstreamTimeoutMs?: number;
  version: string;
  health: () => Promise<Record<string, unknown>>;
  /** Counts `/api/chat` requests (route `native`) into the stats, metrics and request log. */
  recorder?: Recorder;
}

function localModelIds(deps: MiscDeps): string[] {
  const ids = new Set<string>();
  for (const t of deps.targets) ids.add(t.model || t.spec.defaultModel);
  for (const alias of Object.keys(deps.modelAliases)) ids.add(alias);
  ids.delete("");
  return [...ids];
}

/**
 * `GET /v1/models`: the primary provider's own list when it speaks OpenAI and
 * answers, plus the configured aliases; else the configured models.
 * Anthropic clients (they send `anthropic-version`) get Anthropic's shape.
 */
export function modelsHandler(deps: MiscDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const anthropicClient = c.req.header("anthropic-version") !== undefined;
    const primary = deps.targets[0];
    const ctx = requestContext(c);
    let ids = localModelIds(deps);
    let upstreamBody: Record<string, unknown> | null = null;
    if (primary.spec.protocol === "openai_chat" && !anthropicClient) {
      try {
        const key = primary.keys.peek()?.key ?? null;
        const auth = await upstreamAuth(primary, key, ctx.clientCredential);
        const res = await fetch(endpointUrl({ ...primary, baseUrl: auth.baseUrl }, "models"), {
          headers: auth.headers,
          signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(MODELS_TIMEOUT_MS)]),
        });
        if (res.ok) upstreamBody = await res.json();
        else await res.body?.cancel();
      } catch {
        // Unreachable provider: the configured models still answer.
      }
    }
    const created = Math.floor(Date.now() / 1000);
    if (upstreamBody && Array.isArray(upstreamBody.data)) {
      const known = new Set(upstreamBody.data.map((m) => (m as Record<string, unknown>).id));
      const extra = Object.keys(deps.modelAliases).filter((a) => !known.has(a))
        .map((id) => ({ id, object: "model", created, owned_by: "isartor-alias" }));
      return jsonResponse(200, { ...upstreamBody, data: [...upstreamBody.data, ...extra] });
    }
    if (anthropicClient) {
      ids = ids.length ? ids : [primary.spec.defaultModel];
      const data = ids.map((id) => ({
        type: "model",
        id,
        display_name: id,
        created_at: new Date(created * 1000).toISOString(),
      }));
      return jsonResponse(200, {
        data,
        has_more: false,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
      });
    }
    return jsonResponse(200, {
      object: "list",
      data: ids.map((id) => ({ id, object: "model", created, owned_by: primary.name })),
    });
  };
}

/** Rough token estimate (4 characters a token) when the provider has no counting endpoint. */
export function estimateTokens(body: Record<string, unknown>): number {
  const text = JSON.stringify([body.system ?? "", body.messages ?? [], body.tools ?? []]);
  return Math.max(1, Math.ceil(text.length / 4));
}

/** `POST /v1/messages/count_tokens`: the provider's count when it is Anthropic, else an estimate. */
export function countTokensHandler(deps: MiscDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const raw = await readBodyLimited(c.req.raw, deps.maxBodyBytes, deps.readTimeoutMs);
    const body = parseJsonObject(raw);
    validateChatRequest("anthropic", body);
    const ctx = requestContext(c);
    const primary = deps.targets[0];
    if (primary.spec.protocol === "anthropic") {
      const key = primary.keys.peek()?.key ?? null;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "anthropic-version": c.req.header("anthropic-version") ?? "2023-06-01",
        ...authHeaders(primary, key, ctx.clientCredential),
      };
      const beta = c.req.header("anthropic-beta");
      if (beta) headers["anthropic-beta"] = beta;
      // The client's query (Claude Code's `?beta=true`) goes along, as for messages.
      const q = c.req.url.indexOf("?");
      const query = q < 0 ? "" : c.req.url.slice(q);
      return forwardCountTokens(
        primary,
        endpointUrl(primary, "count_tokens") + query,
        headers,
        raw,
        c.req.raw.signal,
        deps.upstreamTimeoutMs,
      );
    }
    const headers = { "x-isartor-estimated": "true", "x-isartor-layer": "local" };
    return jsonResponse(200, { input_tokens: estimateTokens(body) }, headers);
  };
}

/**
 * Forwards a token count to the primary provider and relays its answer
 * (Anthropic's `count_tokens`, Gemini's `countTokens`).
 */
export async function forwardCountTokens(
  primary: Target,
  url: string,
  headers: Record<string, string>,
  raw: Uint8Array<ArrayBuffer>,
  clientSignal: AbortSignal,
  timeoutMs = 120_000,
): Promise<Response> {
  // A provider that never answers must not hold the client forever: the same
  // deadline as a chat call (l3_timeout_secs), covering the body too.
  const deadline = AbortSignal.timeout(timeoutMs);
  const failed = (e: Error): never => {
    if (deadline.aborted && !clientSignal.aborted) {
      throw new GatewayError(
        504,
        "upstream_timeout",
        `${primary.name} did not count the tokens within l3_timeout_secs (${
          timeoutMs / 1000
        }s); fix: raise l3_timeout_secs or check the provider's status`,
      );
    }
    throw new GatewayError(
      502,
      "upstream_unreachable",
      `cannot reach ${primary.name}: ${e.message}`,
    );
  };
  const signal = AbortSignal.any([clientSignal, deadline]);
  const res = await fetch(url, { method: "POST", headers, body: raw, signal }).catch(failed);
  const bytes = await res.arrayBuffer().catch(failed);
  const out = relayHeaders(res.headers);
  out["content-type"] = "application/json";
  out["x-isartor-layer"] = "l3";
  return new Response(bytes, { status: res.status, headers: out });
}

/** `POST /api/chat`: the native API, `{prompt}` in, `{response}` out. */
export function nativeChatHandler(deps: MiscDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const raw = await readBodyLimited(c.req.raw, deps.maxBodyBytes, deps.readTimeoutMs);
    const input = parseJsonObject(raw);
    const prompt = input.prompt;
    if (typeof prompt !== "string" || prompt.trim() === "") {
      throw new GatewayError(
        400,
        "invalid_request_error",
        'prompt: missing or empty; fix: send {"prompt": "your question"}',
      );
    }
    const primary = deps.targets[0];
    const model = typeof input.model === "string" && input.model
      ? input.model
      : primary.model || primary.spec.defaultModel;
    const body = { model, messages: [{ role: "user", content: prompt }] };
    const req: ChatRequest = {
      protocol: "openai_chat",
      body,
      raw: new TextEncoder().encode(JSON.stringify(body)),
      model,
      stream: false,
      headers: c.req.raw.headers,
      signal: c.req.raw.signal,
    };
    const ctx = requestContext(c);
    let answer;
    try {
      answer = await deps.pipeline.run(req, ctx);
    } catch (e) {
      // Counted here, as `native`; passing the error keeps the edge from counting it again.
      const status = e instanceof GatewayError ? e.status : 500;
      deps.recorder?.failed({ ...req, protocol: "native" }, ctx, status, e);
      throw e;
    }
    if (deps.recorder) answer = deps.recorder.answered(req, ctx, answer, "native");
    const headers = {
      "x-isartor-layer": answer.layer,
      "x-isartor-request-id": ctx.requestId,
      "x-isartor-deflected": answer.layer === "l3" ? "false" : "true",
      // Cache headers of the layer that answered (Age, X-Isartor-Similarity…).
      ...answer.layerHeaders,
    };
    // Whatever the answer is (JSON, a stream the provider sent anyway, a
    // recording), read it whole as OpenAI chat JSON: a stream is always
    // consumed to its end, so a cache waiting on it settles.
    const whole = encodeAnswer(
      answer,
      { protocol: "openai_chat", stream: false, body },
      {},
    );
    const json = await whole.json().catch(() => null);
    if (answer.status >= 400 || json === null) {
      const status = answer.status >= 400 ? answer.status : 502;
      const error = new GatewayError(status, "upstream_error", upstreamErrorMessage(json, status));
      // Already recorded above (with the upstream's status): not a second time as refused.
      deps.recorder?.markCounted(error);
      throw error;
    }
    const events = CODECS.openai_chat.decodeJson(json);
    const text = events.map((e) => e.type === "text" ? e.text : "").join("");
    const usage = events.findLast((e) => e.type === "usage");
    return jsonResponse(200, {
      response: text,
      model,
      layer: answer.layer,
      usage: usage?.type === "usage" ? usage.usage : null,
    }, headers);
  };
}
