/**
 * L3, the cloud layer: calls the provider chain faithfully and resiliently.
 *
 * The client's body goes upstream byte for byte when the protocols match (the
 * documented exceptions: auth headers are swapped, a model alias is applied).
 * Retries use exponential backoff with jitter and honour `Retry-After`; they
 * only ever happen before a byte went to the client. Key pools rotate and cool
 * down keys after 429/401/403; the chain falls back in order.
 *
 * @module
 */

import { GatewayError } from "../http/errors.ts";
import { headerRecord } from "../http/header_record.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { WireProtocol } from "../protocol/events.ts";
import type {
  Answer,
  ChatRequest,
  Layer,
  RequestContext,
  ResponseHeaders,
} from "../pipeline/types.ts";
import {
  backoffMs,
  isRetryableStatus,
  parseRetryAfter,
  retryAfterTooLong,
  sleep,
} from "../providers/retry.ts";
import { ProviderAuthError } from "../providers/copilot_token.ts";
import { type Target, upstreamAuth, upstreamProtocol, upstreamUrl } from "../providers/targets.ts";
import { prepareUpstreamBody, resolveModel } from "./cloud_body.ts";
import {
  Http1Client,
  type ReplyHeaders,
  type UpstreamClient,
  UpstreamTimeoutError,
} from "../providers/http1_client.ts";

/** Tuning of the cloud layer, from config. */
export interface CloudOptions {
  timeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  anthropicDefaultMaxTokens: number;
  modelAliases: Record<string, string>;
  offline: boolean;
  /** Injected for tests: the random source of the jitter. */
  random?: () => number;
  /** How requests go upstream (default: pooled HTTP/1.1 keep-alive connections). */
  client?: UpstreamClient;
}

/** Client headers never forwarded upstream (hop-by-hop, credentials, our own). */
const DROP_REQUEST_HEADERS = new Set([
  "host",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "proxy-authorization",
  "proxy-connection",
  "authorization",
  "x-api-key",
  "api-key",
  "x-goog-api-key",
  "cookie",
  "accept-encoding",
  "cache-control",
]);

/** Upstream response headers worth relaying: request ids and rate limits. */
const RELAY_RESPONSE_HEADER =
  /^(x-request-id|request-id|retry-after|openai-|anthropic-|x-ratelimit-|ratelimit|x-groq-|apim-request-id|x-ms-region|cf-ray)/;

/** What one attempt got back: status, headers and a body ready to relay. */
interface UpstreamReply {
  status: number;
  headers: ReplyHeaders;
  body: { kind: "json"; bytes: Uint8Array<ArrayBuffer> } | {
    kind: "sse";
    stream: ReadableStream<Uint8Array>;
  };
}

function isEventStream(headers: ReplyHeaders): boolean {
  return (headers.get("content-type") ?? "").includes("text/event-stream");
}

/** Why one target gave up, and whether the next one may try. */
interface Failure {
  answer: Answer | null;
  error: GatewayError;
  fallback: boolean;
}

class AttemptTimeout extends Error {
  override name = "AttemptTimeout";
}

/** A 2xx answer whose JSON body is broken (cut short, or not JSON at all). */
class BrokenBody extends Error {
  override name = "BrokenBody";
}

const textDecoder = new TextDecoder();

/** Whether a body parses as JSON: a success answer cut short must never pass as one. */
function isJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(textDecoder.decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** Copies the headers worth relaying. */
export function relayHeaders(from: ReplyHeaders): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const [k, v] of from) {
    if (RELAY_RESPONSE_HEADER.test(k)) out[k] = k in out ? `${out[k]}, ${v}` : v;
  }
  return out;
}

/** Whether the client asked for a cached answer or none (`Cache-Control: only-if-cached`). */
export function onlyIfCached(headers: Headers): boolean {
  const cc = headers.get("cache-control");
  return cc !== null && /(^|,)\s*only-if-cached\s*(,|$)/i.test(cc);
}

/** The cloud layer. It always answers: with the provider's answer or with an error. */
export class CloudLayer implements Layer {
  readonly name = "l3" as const;
  readonly #random: () => number;
  readonly #client: UpstreamClient;

  constructor(
    readonly targets: Target[],
    readonly options: CloudOptions,
    readonly metrics: Metrics,
  ) {
    this.#random = options.random ?? Math.random;
    this.#client = options.client ?? new Http1Client();
  }

  /** Closes the upstream connections kept alive. */
  close(): void {
    this.#client.close();
  }

  async handle(req: ChatRequest, ctx: RequestContext): Promise<Answer> {
    if (onlyIfCached(req.headers)) {
      // RFC 9111 §5.2.1.7: a cache that cannot answer says 504, and nothing goes upstream.
      throw new GatewayError(
        504,
        "not_cached",
        "no cached answer (the request said Cache-Control: only-if-cached); fix: drop only-if-cached to let the provider answer",
      );
    }
    if (this.options.offline) {
      throw new GatewayError(
        503,
        "offline_mode",
        "offline_mode is on and no local layer could answer; fix: set offline_mode = false to allow cloud calls",
      );
    }
    let last: Failure | null = null;
    for (const target of this.targets) {
      if (last) this.metrics.fallbacks.inc({ to: target.name });
      const result = await this.#callTarget(target, req, ctx);
      if (!("fallback" in result)) return result;
      last = result;
      if (!result.fallback) break;
    }
    if (last!.answer) return last!.answer;
    throw last!.error;
  }

  async #callTarget(
    target: Target,
    req: ChatRequest,
    ctx: RequestContext,
  ): Promise<Answer | Failure> {
    const proto = upstreamProtocol(target, req.protocol);
    const body = prepareUpstreamBody(req, target, proto, this.options);
    const model = resolveModel(req, target, proto, this.options.modelAliases);
    // The client's query means something only to a provider of its own protocol.
    const query = proto === req.protocol ? req.query ?? "" : "";
    const baseHeaders = this.#forwardHeaders(req, proto);
    const keys = target.keys.order();
    let keyIndex = 0;
    let last: Failure | null = null;
    // An exchanged token (Copilot) that got a 401 is exchanged again once, at once.
    let reexchanged = false;

    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      const key = keys.length > 0 ? keys[keyIndex % keys.length] : null;
      let auth;
      try {
        // A client's own credential belongs to the provider it was meant for (the
        // primary): never hand it to a fallback run by another company.
        auth = await upstreamAuth(
          target,
          key?.key ?? null,
          target.position === 0 ? ctx.clientCredential : null,
        );
      } catch (e) {
        if (!(e instanceof ProviderAuthError)) throw e;
        this.metrics.upstreamAttempts.inc({ provider: target.name, outcome: "auth" });
        if (key && e.kind === "refused") target.keys.coolDown(key.key);
        if (key && keyIndex + 1 < keys.length) {
          keyIndex++;
          attempt--;
          continue;
        }
        return {
          answer: null,
          error: new GatewayError(502, "provider_auth_failed", `${target.name}: ${e.message}`),
          fallback: true,
        };
      }
      const url = upstreamUrl(
        { ...target, baseUrl: auth.baseUrl },
        proto,
        model,
        req.stream,
        query,
      );
      const headers = { ...baseHeaders, ...auth.headers };
      const span = ctx.trace?.attempt(target.name, target.model, target.position, attempt);
      // Traced: the provider sees our attempt span as its parent.
      if (span) headers.traceparent = span.traceparent;
      const outcome = await this.#attempt(url, headers, body, req);
      span?.end(
        outcome instanceof Error
          ? (outcome instanceof AttemptTimeout ? "timeout" : "network")
          : outcome.status < 300
          ? "ok"
          : String(outcome.status),
        outcome instanceof Error ? undefined : outcome.status,
      );
      if (!(outcome instanceof Error)) {
        const status = outcome.status;
        const answer: Answer = {
          layer: "l3",
          status,
          headers: relayHeaders(outcome.headers),
          protocol: proto,
          provider: target.name,
          body: outcome.body,
        };
        if (status >= 200 && status < 300) {
          this.metrics.upstreamAttempts.inc({ provider: target.name, outcome: "ok" });
          return answer;
        }
        this.metrics.upstreamAttempts.inc({ provider: target.name, outcome: String(status) });
        if (status === 401 && auth.token && key && target.tokens && !reexchanged) {
          // The short-lived token was revoked or expired early: exchange again.
          target.tokens.invalidate(key.key, auth.token);
          reexchanged = true;
          attempt--;
          continue;
        }
        const retryAfter = parseRetryAfter(outcome.headers.get("retry-after"));
        const authFailed = status === 401 || status === 403;
        if (key && (authFailed || status === 429)) {
          target.keys.coolDown(
            key.key,
            status === 429 && retryAfter !== null ? retryAfter : undefined,
          );
          // Another key may work at once: try it without waiting.
          if (keyIndex + 1 < keys.length) {
            keyIndex++;
            attempt--;
            continue;
          }
        }
        const error = new GatewayError(
          status,
          "upstream_error",
          `${target.name} answered ${status}`,
        );
        if (authFailed) return { answer, error, fallback: true };
        if (!isRetryableStatus(status)) return { answer, error, fallback: false };
        last = { answer, error, fallback: true };
        if (retryAfterTooLong(retryAfter, this.options.retryMaxMs)) break;
        if (attempt < this.options.maxRetries) {
          await this.#wait(attempt, retryAfter, req.signal);
        }
        continue;
      }
      // A network error, a timeout or a broken body: no byte reached the client yet, so retry.
      const kind = outcome instanceof AttemptTimeout
        ? "timeout"
        : outcome instanceof BrokenBody
        ? "broken_body"
        : "network";
      this.metrics.upstreamAttempts.inc({ provider: target.name, outcome: kind });
      last = {
        answer: null,
        error: kind === "broken_body"
          ? new GatewayError(502, "upstream_error", `${target.name} ${outcome.message}`)
          : kind === "timeout"
          ? new GatewayError(
            504,
            "upstream_timeout",
            `${target.name} did not answer within l3_timeout_secs (${
              this.options.timeoutMs / 1000
            }s); fix: raise l3_timeout_secs or check the provider's status`,
          )
          : new GatewayError(
            502,
            "upstream_unreachable",
            `cannot reach ${target.name} at ${url}: ${outcome.message}; fix: check the network and the provider URL (external_llm_url)`,
          ),
        fallback: true,
      };
      if (attempt < this.options.maxRetries) await this.#wait(attempt, null, req.signal);
    }
    return last!;
  }

  async #wait(attempt: number, retryAfter: number | null, signal: AbortSignal): Promise<void> {
    const ms = backoffMs(
      attempt,
      this.options.retryBaseMs,
      this.options.retryMaxMs,
      retryAfter,
      this.#random,
    );
    await sleep(ms, signal).catch(() => {
      throw clientGone();
    });
  }

  /**
   * One HTTP attempt. Resolves to the reply (a JSON body read whole, or a live
   * SSE stream) or to the error that ended it. JSON answers and errors are read
   * whole inside the attempt's time budget, so a body cut before its end is
   * retried like any network failure; a stream is never retried once relayed.
   */
  async #attempt(
    url: string,
    headers: Record<string, string>,
    body: Uint8Array | string,
    req: ChatRequest,
  ): Promise<UpstreamReply | Error> {
    if (req.signal.aborted) throw clientGone();
    const timeoutMs = this.options.timeoutMs;
    try {
      const res = await this.#client.post(url, headers, body, { signal: req.signal, timeoutMs });
      if (res.status >= 200 && res.status < 300 && isEventStream(res.headers)) {
        const stream = withIdleTimeout(res.stream(), timeoutMs);
        return { status: res.status, headers: res.headers, body: { kind: "sse", stream } };
      }
      const bytes = await res.bytes();
      if (res.status >= 200 && res.status < 300 && !isJson(bytes)) {
        return new BrokenBody(
          `answered HTTP ${res.status} with a body that is not valid JSON (${bytes.byteLength} bytes, cut short?)`,
        );
      }
      return { status: res.status, headers: res.headers, body: { kind: "json", bytes } };
    } catch (e) {
      if (req.signal.aborted) throw clientGone();
      if (e instanceof UpstreamTimeoutError) return new AttemptTimeout("timeout");
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  #forwardHeaders(req: ChatRequest, proto: WireProtocol): Record<string, string> {
    const out: Record<string, string> = { "content-type": "application/json" };
    const client = headerRecord(req.headers);
    if (proto === req.protocol) {
      for (const k in client) {
        if (!DROP_REQUEST_HEADERS.has(k) && !k.startsWith("x-isartor-")) out[k] = client[k];
      }
      out["content-type"] = "application/json";
    } else {
      // Another protocol: the client's protocol headers mean nothing there.
      const ua = client["user-agent"];
      if (ua) out["user-agent"] = ua;
    }
    if (proto === "anthropic" && !out["anthropic-version"]) out["anthropic-version"] = "2023-06-01";
    return out;
  }
}

/** The error raised when the client went away: nothing to answer. */
export function clientGone(): GatewayError {
  return new GatewayError(499, "client_closed_request", "the client closed the request");
}

/**
 * Wraps a live upstream stream so that a silence longer than `ms` while waiting for the
 * upstream ends it with an error (the per-attempt timeout, applied to a stream). Cancelling
 * the wrapped stream cancels the upstream body, which closes its connection.
 */
function withIdleTimeout(
  upstream: ReadableStream<Uint8Array>,
  ms: number,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      let idle = false;
      const timer = setTimeout(() => {
        idle = true;
        reader.cancel(new AttemptTimeout("idle")).catch(() => {});
      }, ms);
      try {
        const { done, value } = await reader.read();
        clearTimeout(timer);
        if (idle) out.error(new AttemptTimeout("idle"));
        else if (done) out.close();
        else out.enqueue(value);
      } catch (e) {
        clearTimeout(timer);
        out.error(idle ? new AttemptTimeout("idle") : e);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
