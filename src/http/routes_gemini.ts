/**
 * The Gemini API routes: `POST /v1beta/models/{model}:generateContent`,
 * `:streamGenerateContent` (`?alt=sse`, or the JSON-array stream without it),
 * `:countTokens`, and `GET /v1beta/models[/{model}]` (also under `/v1/`).
 *
 * The model and the stream mode are in the URL; the chat endpoint does the
 * rest as for every protocol. `key` (a credential, read by the auth
 * middleware) and `alt` (the stream framing) are consumed here; any other
 * query parameter goes to a Gemini provider unchanged.
 *
 * @module
 */

import type { Context } from "hono";
import { geminiJsonArrayStream } from "../protocol/gemini_encode.ts";
import { authHeaders } from "../providers/targets.ts";
import { parseJsonObject, readBodyLimited } from "./body.ts";
import { GatewayError } from "./errors.ts";
import { jsonResponse } from "./respond.ts";
import { type ChatEndpoint, type GatewayEnv, requestContext } from "./routes_chat.ts";
import { forwardCountTokens, type MiscDeps } from "./routes_misc.ts";

const MODELS_TIMEOUT_MS = 5000;

/** `{model}:{method}` of a Gemini URL's last segment. */
function splitAction(action: string): { model: string; method: string } {
  const at = action.lastIndexOf(":");
  if (at <= 0) return { model: action, method: "" };
  return { model: action.slice(0, at), method: action.slice(at + 1) };
}

/** The query without `key` and `alt`, in the client's order; and whether `alt=sse` was asked. */
function splitQuery(url: string): { query: string; sse: boolean } {
  const q = url.indexOf("?");
  if (q < 0) return { query: "", sse: false };
  let sse = false;
  const kept: string[] = [];
  for (const pair of url.slice(q + 1).split("&")) {
    if (!pair) continue;
    const name = decodeURIComponent(pair.split("=", 1)[0]);
    if (name === "alt") sse = pair.slice(4).toLowerCase() === "sse";
    else if (name !== "key") kept.push(pair);
  }
  return { query: kept.join("&"), sse };
}

function notFound(model: string, method: string): GatewayError {
  return new GatewayError(
    404,
    "NOT_FOUND",
    `models/${model} is not found for API version v1beta, or is not supported for ${
      method || "this method"
    }. Call ListModels to see the list of available models and their supported methods.`,
  );
}

/** Rough token estimate (4 characters a token) of a Gemini request. */
function estimateTokens(body: Record<string, unknown>): number {
  const inner = (body.generateContentRequest ?? body) as Record<string, unknown>;
  const text = JSON.stringify([
    inner.systemInstruction ?? "",
    inner.contents ?? [],
    inner.tools ?? [],
  ]);
  return Math.max(1, Math.ceil(text.length / 4));
}

/** `:countTokens`: the provider's count when it speaks Gemini, else an estimate. */
async function countTokens(
  c: Context<GatewayEnv>,
  deps: MiscDeps,
  model: string,
  query: string,
): Promise<Response> {
  const raw = await readBodyLimited(c.req.raw, deps.maxBodyBytes, deps.readTimeoutMs);
  const body = parseJsonObject(raw);
  const primary = deps.targets[0];
  if (primary.spec.protocol === "gemini") {
    const ctx = requestContext(c);
    const key = primary.keys.peek()?.key ?? null;
    const url = `${primary.baseUrl}/models/${model}:countTokens${query ? `?${query}` : ""}`;
    return forwardCountTokens(
      primary,
      url,
      { "content-type": "application/json", ...authHeaders(primary, key, ctx.clientCredential) },
      raw,
      c.req.raw.signal,
      deps.upstreamTimeoutMs,
    );
  }
  return jsonResponse(200, { totalTokens: estimateTokens(body) }, {
    "x-isartor-estimated": "true",
    "x-isartor-layer": "local",
  });
}

/**
 * `POST /v1beta/models/{model}:{method}`: generation through the chat
 * endpoint, token counting beside it.
 */
export function geminiActionHandler(chat: ChatEndpoint, deps: MiscDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const { model, method } = splitAction(c.req.param("action") ?? "");
    const { query, sse } = splitQuery(c.req.url);
    if (method === "countTokens") return countTokens(c, deps, model, query);
    if (method !== "generateContent" && method !== "streamGenerateContent") {
      throw notFound(model, method);
    }
    const stream = method === "streamGenerateContent";
    const res = await chat(c.req.raw, c.get("caller"), c.get("requestId"), {
      query,
      model,
      stream,
    });
    // Without alt=sse a stream is one JSON array, sent element by element.
    if (!stream || sse || !res.body || res.status >= 400) return res;
    const headers = new Headers(res.headers);
    headers.set("content-type", "application/json; charset=UTF-8");
    return new Response(res.body.pipeThrough(geminiJsonArrayStream()), {
      status: res.status,
      headers,
    });
  };
}

function modelEntry(id: string): Record<string, unknown> {
  return {
    name: `models/${id}`,
    displayName: id,
    supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
  };
}

/** Fetches a Gemini provider's models endpoint; null when it does not answer. */
async function upstreamModels(
  c: Context<GatewayEnv>,
  deps: MiscDeps,
  suffix: string,
): Promise<Response | null> {
  const primary = deps.targets[0];
  if (primary.spec.protocol !== "gemini") return null;
  try {
    const key = primary.keys.peek()?.key ?? null;
    const res = await fetch(`${primary.baseUrl}/models${suffix}`, {
      headers: authHeaders(primary, key, requestContext(c).clientCredential),
      signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(MODELS_TIMEOUT_MS)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return jsonResponse(200, await res.json());
  } catch {
    // Unreachable provider: the configured models still answer.
    return null;
  }
}

function localIds(deps: MiscDeps): string[] {
  const ids = new Set<string>();
  for (const t of deps.targets) ids.add(t.model || t.spec.defaultModel);
  for (const alias of Object.keys(deps.modelAliases)) ids.add(alias);
  ids.delete("");
  return [...ids];
}

/** `GET /v1beta/models`: a Gemini provider's own list, else the configured models. */
export function geminiModelsHandler(deps: MiscDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const { query } = splitQuery(c.req.url);
    const upstream = await upstreamModels(c, deps, query ? `?${query}` : "");
    if (upstream) return upstream;
    return jsonResponse(200, { models: localIds(deps).map(modelEntry) });
  };
}

/** Whether a request comes from a Gemini client (it sends `x-goog-api-key` or `?key=`). */
export function isGeminiClient(c: Context<GatewayEnv>): boolean {
  return c.req.header("x-goog-api-key") !== undefined || /[?&]key=/.test(c.req.url);
}

/**
 * `GET /v1beta/models/{model}`: one model, from a Gemini provider or the
 * configured ones. Under `/v1/`, a client that is not Gemini's gets OpenAI's
 * model object.
 */
export function geminiModelHandler(deps: MiscDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const { model } = splitAction(c.req.param("action") ?? "");
    if (c.req.path.startsWith("/v1/") && !isGeminiClient(c)) {
      return jsonResponse(200, {
        id: model,
        object: "model",
        created: Math.floor(Date.now() / 1000),
        owned_by: deps.targets[0].name,
      });
    }
    const upstream = await upstreamModels(c, deps, `/${model}`);
    if (upstream) return upstream;
    if (deps.targets[0].spec.protocol === "gemini" || localIds(deps).includes(model)) {
      return jsonResponse(200, modelEntry(model));
    }
    throw notFound(model, "");
  };
}
