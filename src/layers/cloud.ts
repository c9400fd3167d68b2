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
import type { Metrics } from "../telemetry/metrics.ts";
import type { WireProtocol } from "../protocol/events.ts";
import type { Answer, ChatRequest, Layer, RequestContext } from "../pipeline/types.ts";
import {
  backoffMs,
  isRetryableStatus,
  parseRetryAfter,
  retryAfterTooLong,
  sleep,
} from "../providers/retry.ts";
import {
  authHeaders,
  type Endpoint,
  endpointUrl,
  type Target,
  upstreamProtocol,
} from "../providers/targets.ts";
import { prepareUpstreamBody } from "./cloud_body.ts";

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
  "cookie",
  "accept-encoding",
  "cache-control",
]);

/** Upstream response headers worth relaying: request ids and rate limits. */
const RELAY_RESPONSE_HEADER =
  /^(x-request-id|request-id|retry-after|openai-|anthropic-|x-ratelimit-|ratelimit|x-groq-|apim-request-id|x-ms-region|cf-ray)/;

const ENDPOINT_FOR: Record<WireProtocol, Endpoint> = {
  openai_chat: "chat",
  anthropic: "messages",
  openai_responses: "responses",
};

/** What one attempt got back: status, headers and a body ready to relay. */
interface UpstreamReply {
  status: number;
  headers: Headers;
  body: { kind: "json"; bytes: Uint8Array<ArrayBuffer> } | {
    kind: "sse";
    stream: ReadableStream<Uint8Array>;
  };
}

function isEventStream(headers: Headers): boolean {
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

/** Copies the headers worth relaying. */
export function relayHeaders(from: Headers): Headers {
  const out = new Headers();
  for (const [k, v] of from) if (RELAY_RESPONSE_HEADER.test(k)) out.set(k, v);
  return out;
}

/** The cloud layer. It always answers: with the provider's answer or with an error. */
export class CloudLayer implements Layer {
  readonly name = "l3" as const;
  readonly #random: () => number;

  constructor(
    readonly targets: Target[],
    readonly options: CloudOptions,
    readonly metrics: Metrics,
  ) {
    this.#random = options.random ?? Math.random;
  }

  async handle(req: ChatRequest, ctx: RequestContext): Promise<Answer> {
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
    const url = endpointUrl(target, ENDPOINT_FOR[proto]);
    const baseHeaders = this.#forwardHeaders(req, proto);
    const keys = target.keys.order();
    let keyIndex = 0;
    let last: Failure | null = null;

    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      const key = keys.length > 0 ? keys[keyIndex % keys.length] : null;
      const headers = {
        ...baseHeaders,
        // A client's own credential belongs to the provider it was meant for (the
        // primary): never hand it to a fallback run by another company.
        ...authHeaders(
          target,
          key?.key ?? null,
          target.position === 0 ? ctx.clientCredential : null,
        ),
      };
      const outcome = await this.#attempt(url, headers, body, req);
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
      // A network error or a timeout: no byte reached the client yet, so retry.
      const kind = outcome instanceof AttemptTimeout ? "timeout" : "network";
      this.metrics.upstreamAttempts.inc({ provider: target.name, outcome: kind });
      last = {
        answer: null,
        error: kind === "timeout"
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
    body: BodyInit,
    req: ChatRequest,
  ): Promise<UpstreamReply | Error> {
    if (req.signal.aborted) throw clientGone();
    // One controller per attempt, fed by the client's signal and the timer
    // (cheaper than AbortSignal.any on the hot path).
    const ctrl = new AbortController();
    const onClientAbort = () => ctrl.abort(req.signal.reason);
    req.signal.addEventListener("abort", onClientAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort(new AttemptTimeout("timeout"));
    }, this.options.timeoutMs);
    const release = () => req.signal.removeEventListener("abort", onClientAbort);
    try {
      const res = await fetch(url, { method: "POST", headers, body, signal: ctrl.signal });
      if (res.ok && res.body && isEventStream(res.headers)) {
        clearTimeout(timer);
        const stream = withIdleTimeout(res.body, ctrl, this.options.timeoutMs, release);
        return { status: res.status, headers: res.headers, body: { kind: "sse", stream } };
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      clearTimeout(timer);
      release();
      return { status: res.status, headers: res.headers, body: { kind: "json", bytes } };
    } catch (e) {
      clearTimeout(timer);
      release();
      if (req.signal.aborted) throw clientGone();
      if (timedOut) return new AttemptTimeout("timeout");
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  #forwardHeaders(req: ChatRequest, proto: WireProtocol): Record<string, string> {
    const out: Record<string, string> = { "content-type": "application/json" };
    if (proto === req.protocol) {
      for (const [k, v] of req.headers) {
        if (!DROP_REQUEST_HEADERS.has(k) && !k.startsWith("x-isartor-")) out[k] = v;
      }
      out["content-type"] = "application/json";
    } else {
      // Another protocol: the client's protocol headers mean nothing there.
      const ua = req.headers.get("user-agent");
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
 * Wraps a live upstream stream so that a silence longer than `ms` while
 * waiting for the upstream aborts the call (the per-attempt timeout, applied
 * to a stream). Cancelling the wrapped stream cancels the upstream body;
 * `done` runs once when the stream ends, fails or is cancelled.
 */
function withIdleTimeout(
  upstream: ReadableStream<Uint8Array>,
  ctrl: AbortController,
  ms: number,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      timer = setTimeout(() => ctrl.abort(new AttemptTimeout("idle")), ms);
      try {
        const { done: end, value } = await reader.read();
        clearTimeout(timer);
        if (end) {
          done();
          out.close();
        } else out.enqueue(value);
      } catch (e) {
        clearTimeout(timer);
        done();
        out.error(e);
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      done();
      return reader.cancel(reason);
    },
  });
}
