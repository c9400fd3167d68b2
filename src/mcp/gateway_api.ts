/**
 * The MCP tools' view of the gateway: its own HTTP API (`/api/chat`,
 * `/api/v1/cache/store`, `/api/v1/stats`), called through a `fetch`.
 *
 * Both transports use it: the stdio server (`isartor mcp`) with the global
 * `fetch` against a running gateway, the gateway's `/mcp` endpoint with the
 * gateway's own request handler (no socket). So the tools never hold a second
 * copy of the cascade, the cache or the stats: they are clients of the same
 * routes, authenticated and partitioned like any other caller.
 *
 * @module
 */

import { upstreamErrorMessage } from "../http/errors.ts";
import type { StatsReport } from "../telemetry/stats.ts";

/** A `fetch`-shaped function: the global one, or the gateway's handler. */
export type FetchLike = (request: Request) => Promise<Response>;

/** Where and as whom the tools call the gateway. */
export interface GatewayApiOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  fetch: FetchLike;
  /** Sent with every call: the gateway key (`authorization`), the tenant header, the user agent. */
  headers: Record<string, string>;
}

/** What `isartor_chat` gets back. */
export interface ChatResult {
  /** False on a cache miss that was not allowed to reach the cloud. */
  answered: boolean;
  /** The layer that answered (`l1a`, `l1b`, `l3`), or null on a miss. */
  layer: string | null;
  response: string;
  model: string;
}

/** The gateway answered with an error; `message` says what to fix. */
export class GatewayApiError extends Error {
  override name = "GatewayApiError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A client of the gateway's HTTP API for the MCP tools. */
export class GatewayApi {
  readonly #base: string;

  constructor(readonly options: GatewayApiOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
  }

  /**
   * Answers a prompt: from the caches only (`Cache-Control: only-if-cached`;
   * a miss is `answered: false`), or through the whole cascade with `allowCloud`.
   */
  async chat(
    input: { prompt: string; model?: string; allowCloud?: boolean },
    signal?: AbortSignal,
  ): Promise<ChatResult> {
    const headers: Record<string, string> = {};
    if (!input.allowCloud) headers["cache-control"] = "only-if-cached";
    const body = { prompt: input.prompt, ...(input.model ? { model: input.model } : {}) };
    const res = await this.#call("POST", "/api/chat", body, headers, signal);
    const json = await res.json().catch(() => null);
    if (
      res.status === 504 && (json as { error?: { code?: unknown } })?.error?.code === "not_cached"
    ) {
      return { answered: false, layer: null, response: "", model: input.model ?? "" };
    }
    if (!res.ok) throw this.#error(res.status, json, "/api/chat");
    const out = json as { response?: unknown; layer?: unknown; model?: unknown };
    return {
      answered: true,
      layer: typeof out.layer === "string" ? out.layer : null,
      response: typeof out.response === "string" ? out.response : "",
      model: typeof out.model === "string" ? out.model : input.model ?? "",
    };
  }

  /** Stores a prompt and its answer in the caller's partition of the exact cache. */
  async store(
    input: { prompt: string; response: string; model?: string },
    signal?: AbortSignal,
  ): Promise<{ key: string }> {
    const res = await this.#call("POST", "/api/v1/cache/store", input, {}, signal);
    const json = await res.json().catch(() => null);
    if (!res.ok) throw this.#error(res.status, json, "/api/v1/cache/store");
    return { key: String((json as { key?: unknown }).key ?? "") };
  }

  /** The gateway's stats report (`GET /api/v1/stats`). */
  async stats(signal?: AbortSignal): Promise<StatsReport> {
    const res = await this.#call("GET", "/api/v1/stats", undefined, {}, signal);
    const json = await res.json().catch(() => null);
    if (!res.ok) throw this.#error(res.status, json, "/api/v1/stats");
    return json as StatsReport;
  }

  async #call(
    method: string,
    path: string,
    body: unknown,
    extra: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...this.options.headers, ...extra };
    if (body !== undefined) headers["content-type"] = "application/json";
    const request = new Request(`${this.#base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    try {
      return await this.options.fetch(request);
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new GatewayApiError(
        503,
        `isartor is not reachable at ${this.#base} (${
          (e as Error).message
        }); fix: start it with \`isartor up --detach\`, or pass --gateway-url to \`isartor mcp\``,
      );
    }
  }

  #error(status: number, body: unknown, path: string): GatewayApiError {
    if (status === 401) {
      return new GatewayApiError(
        401,
        "the gateway refused the key; fix: give `isartor mcp` the gateway's key in ISARTOR__GATEWAY_API_KEY (or gateway_api_key in isartor.toml)",
      );
    }
    const message = upstreamErrorMessage(body, status);
    return new GatewayApiError(status, `isartor answered ${status} on ${path}: ${message}`);
  }
}
