/**
 * The Responses API over WebSocket (`GET /v1/responses` with an upgrade), the
 * transport Codex uses by default.
 *
 * Each `response.create` message is served as an ordinary `POST /v1/responses`
 * through the gateway's own chat endpoint (same auth, caches, recording,
 * translation for chat-only providers, stats), and every SSE event of the
 * answer goes back as one text message, in order. Upstream the gateway speaks
 * HTTP: a provider with the Responses API gets a streamed POST, a chat-only
 * provider the translated request. A gateway error or a provider's HTTP error
 * becomes the WebSocket `error` event Codex reads (`{"type": "error",
 * "status": 429, "error": {...}}`). Messages are served one at a time, in
 * order; closing the socket cancels the response in flight.
 *
 * @module
 */

import { SseParser } from "../protocol/sse.ts";
import { randomId } from "../protocol/_shared.ts";
import { GatewayError } from "./errors.ts";
import { type ChainedResponse, type WsError, wsStep } from "./ws_responses_chain.ts";

/** Serves one HTTP request through the gateway (its own `fetch`). */
export type Serve = (request: Request) => Promise<Response>;

/** Upgrade headers that describe the WebSocket handshake, not the request. */
const HANDSHAKE_HEADER = /^(upgrade|connection|sec-websocket-.*|content-length|content-type)$/;

/** The POST's headers: the upgrade request's, without the handshake and the WebSocket beta. */
function postHeaders(upgrade: Headers): Headers {
  const out = new Headers();
  for (const [k, v] of upgrade) {
    if (HANDSHAKE_HEADER.test(k)) continue;
    if (k === "openai-beta") {
      // `responses_websockets=…` asks for this transport; the POST upstream is plain HTTP.
      const rest = v.split(",").map((s) => s.trim()).filter((s) =>
        s && !s.startsWith("responses_websockets")
      );
      if (rest.length) out.set(k, rest.join(", "));
      continue;
    }
    out.set(k, v);
  }
  out.set("content-type", "application/json");
  out.set("accept", "text/event-stream");
  return out;
}

function errorEvent(e: WsError, headers?: Record<string, string>): string {
  const { status, ...error } = e;
  return JSON.stringify({ type: "error", status, error, ...(headers ? { headers } : {}) });
}

/** The WebSocket error event for an HTTP error answer (the gateway's own or the provider's). */
async function httpErrorEvent(res: Response): Promise<string> {
  const text = await res.text();
  let err: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed.error === "object" && parsed.error) err = parsed.error;
  } catch {
    // not JSON: the text is the message
  }
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const headers: Record<string, string> = {};
  for (const [k, v] of res.headers) {
    if (k === "retry-after" || k.startsWith("x-isartor-") || k.startsWith("x-ratelimit-")) {
      headers[k] = v;
    }
  }
  return errorEvent({
    status: res.status,
    type: str(err.type) ?? "api_error",
    code: str(err.code),
    message: str(err.message) ?? (text.trim().slice(0, 500) || `HTTP ${res.status}`),
    param: str(err.param),
  }, headers);
}

/** A response that needs no model: `generate: false` warms the connection up. */
function warmupEvents(id: string, model: unknown): string[] {
  const response = (status: string) => ({
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    model: typeof model === "string" ? model : "",
    output: [],
    usage: status === "completed"
      ? {
        input_tokens: 0,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 0,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 0,
      }
      : null,
  });
  return [
    JSON.stringify({
      type: "response.created",
      sequence_number: 0,
      response: response("in_progress"),
    }),
    JSON.stringify({
      type: "response.completed",
      sequence_number: 1,
      response: response("completed"),
    }),
  ];
}

/** Whether a request asks to upgrade to a WebSocket. */
export function isWebSocketUpgrade(req: Request): boolean {
  return req.method === "GET" && req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** The refusal of a plain GET on a Responses path. */
export function plainGetError(path: string): GatewayError {
  return new GatewayError(
    405,
    "invalid_request_error",
    `GET is not allowed on ${path} without a WebSocket upgrade; fix: POST the request, or open a WebSocket`,
    { allow: "POST" },
  );
}

/**
 * Serves `GET /v1/responses` with an upgrade (the caller has authenticated it):
 * upgrades to a WebSocket, then serves each `response.create` through `serve`
 * as a streamed `POST` to the same path. Called before the router, since the
 * upgrade response must be the very object Deno made.
 */
export function wsResponsesHandler(serve: Serve) {
  return (req: Request): Response => {
    // Read before the upgrade: afterwards the request is closed.
    const url = new URL(req.url);
    const headers = postHeaders(req.headers);
    const { socket, response } = Deno.upgradeWebSocket(req);
    let last: ChainedResponse | null = null;
    let inFlight: AbortController | null = null;
    let queue = Promise.resolve();
    const send = (text: string) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
    };

    const relay = async (res: Response, input: unknown[] | null): Promise<void> => {
      if (res.status >= 400 || !res.body) return send(await httpErrorEvent(res));
      const parser = new SseParser();
      const decoder = new TextDecoder();
      let completed: ChainedResponse | null = null;
      const forward = (data: string) => {
        send(data);
        // Only the terminal event is parsed: it names the response and its output.
        if (!data.includes('"response.completed"')) return;
        try {
          const ev = JSON.parse(data);
          if (ev.type === "response.completed" && input) {
            const r = ev.response ?? {};
            completed = {
              id: String(r.id ?? ""),
              input,
              output: Array.isArray(r.output) ? r.output : [],
            };
          }
        } catch {
          // relayed as it came; nothing to remember
        }
      };
      for await (const chunk of res.body) {
        for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) forward(ev.data);
      }
      for (const ev of parser.flush()) forward(ev.data);
      // A response that did not complete cannot be continued: the last complete one stays.
      if (completed) last = completed;
    };

    const handle = async (data: unknown): Promise<void> => {
      if (typeof data !== "string") {
        return send(errorEvent({
          status: 400,
          type: "invalid_request_error",
          code: null,
          message: "binary messages are not supported; fix: send JSON text messages",
          param: null,
        }));
      }
      const step = wsStep(data, last);
      if (step.kind === "ignore") return;
      if (step.kind === "error") return send(errorEvent(step.error));
      if (step.kind === "warmup") {
        const id = randomId("resp_");
        for (const ev of warmupEvents(id, JSON.parse(data).model)) send(ev);
        last = { id, input: step.input, output: [] };
        return;
      }
      const controller = new AbortController();
      inFlight = controller;
      try {
        const post = new Request(`${url.origin}${url.pathname}${url.search}`, {
          method: "POST",
          headers,
          body: JSON.stringify(step.body),
          signal: controller.signal,
        });
        await relay(await serve(post), step.input);
      } catch (e) {
        if (controller.signal.aborted) return;
        send(errorEvent({
          status: 500,
          type: "server_error",
          code: null,
          message: `internal gateway error: ${e instanceof Error ? e.message : String(e)}`,
          param: null,
        }));
      } finally {
        inFlight = null;
      }
    };

    socket.onmessage = (ev) => {
      queue = queue.then(() => handle(ev.data));
    };
    socket.onclose = () => inFlight?.abort();
    socket.onerror = () => inFlight?.abort();
    return response;
  };
}
