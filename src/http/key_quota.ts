/**
 * Quotas of per-tenant gateway keys: requests and provider tokens per fixed
 * window. Counted in memory (a restart starts every window afresh).
 *
 * @module
 */

import type { Caller } from "./auth.ts";
import { GatewayError } from "./errors.ts";
import { type GatewayKeyEntry, keyId } from "./gateway_keys.ts";

interface WindowCount {
  start: number;
  requests: number;
  tokens: number;
}

/** Why a key is over quota, and when it may call again. */
export interface QuotaRefusal {
  /** What ran out: "requests" or "tokens". */
  limit: "requests" | "tokens";
  /** The configured limit. */
  max: number;
  /** Whole seconds until the window ends (the `Retry-After`). */
  retryAfterSecs: number;
  /** The window in seconds. */
  windowSecs: number;
}

/** Counts each key's use in its current window. */
export class KeyQuotas {
  readonly #windows = new Map<string, WindowCount>();

  constructor(readonly now: () => number = Date.now) {}

  #window(id: string, entry: GatewayKeyEntry): WindowCount {
    const size = entry.window_secs * 1000;
    const start = Math.floor(this.now() / size) * size;
    let w = this.#windows.get(id);
    if (!w || w.start !== start) {
      w = { start, requests: 0, tokens: 0 };
      this.#windows.set(id, w);
    }
    return w;
  }

  /**
   * Admits one model request of a key and counts it, or says why not (the
   * request is then not counted). Keys without limits are never tracked.
   *
   * @example
   * ```ts
   * const q = new KeyQuotas(() => 0);
   * const key = { key_sha256: "", tenant: "a", label: "", trusted_proxy: false,
   *   requests_per_window: 1, tokens_per_window: 0, window_secs: 60 };
   * q.admit("k", key); // null
   * q.admit("k", key)?.retryAfterSecs; // 60
   * ```
   */
  admit(id: string, entry: GatewayKeyEntry): QuotaRefusal | null {
    if (!entry.requests_per_window && !entry.tokens_per_window) return null;
    const w = this.#window(id, entry);
    const refuse = (limit: QuotaRefusal["limit"], max: number): QuotaRefusal => ({
      limit,
      max,
      retryAfterSecs: Math.max(
        1,
        Math.ceil((w.start + entry.window_secs * 1000 - this.now()) / 1000),
      ),
      windowSecs: entry.window_secs,
    });
    if (entry.requests_per_window && w.requests >= entry.requests_per_window) {
      return refuse("requests", entry.requests_per_window);
    }
    if (entry.tokens_per_window && w.tokens >= entry.tokens_per_window) {
      return refuse("tokens", entry.tokens_per_window);
    }
    w.requests++;
    return null;
  }

  /** Adds provider tokens a key's request used (known once its answer ends). */
  charge(id: string, entry: GatewayKeyEntry, tokens: number): void {
    if (!entry.tokens_per_window || !(tokens > 0)) return;
    this.#window(id, entry).tokens += tokens;
  }

  /** A key's use in its current window (for `isartor keys list` and tests). */
  usage(id: string, entry: GatewayKeyEntry): { requests: number; tokens: number } {
    const w = this.#window(id, entry);
    return { requests: w.requests, tokens: w.tokens };
  }
}

/**
 * Whether a path is a model request (what a key's request quota counts):
 * the chat routes, Gemini's generate methods and the native `/api/chat`;
 * not the admin API, the dashboard or the model lists.
 */
export function isModelRoute(path: string): boolean {
  return /\/(chat\/completions|responses|messages|api\/chat)$/.test(path) ||
    /\/models\/[^/]+:(generateContent|streamGenerateContent)$/.test(path);
}

/**
 * Admits a model request of a caller that came with a per-tenant key, and
 * sets `caller.charge` so its provider tokens count; over quota, throws a 429
 * (in the caller's protocol at the edge) with `Retry-After`.
 */
export function meterKey(quotas: KeyQuotas, caller: Caller, key: GatewayKeyEntry): void {
  const id = keyId(key);
  const refusal = quotas.admit(id, key);
  if (refusal) {
    const what = refusal.limit === "requests" ? "requests" : "provider tokens";
    throw new GatewayError(
      429,
      "rate_limit_error",
      `gateway key ${
        key.label || id
      } is over its quota of ${refusal.max} ${what} per ${refusal.windowSecs}s; retry in ${refusal.retryAfterSecs}s, or raise ${refusal.limit}_per_window for this key`,
      { "retry-after": String(refusal.retryAfterSecs) },
    );
  }
  if (key.tokens_per_window) caller.charge = (tokens) => quotas.charge(id, key, tokens);
}
