/**
 * The edge's encoder: turns an Answer into an HTTP Response in the protocol and
 * mode (JSON or stream) the client asked for.
 *
 * Same protocol and mode: the upstream bytes pass through untouched, streams
 * chunk by chunk as they arrive. Otherwise the answer is decoded into events
 * and re-encoded, incrementally for streams.
 *
 * @module
 */

import { CODECS } from "../protocol/codecs.ts";
import type { AnswerEvent, WireProtocol } from "../protocol/events.ts";
import { encodeSse, SseParser } from "../protocol/sse.ts";
import type { Answer, ResponseHeaders } from "../pipeline/types.ts";
import { type Recording, wantsUsageChunk } from "../cache/recording.ts";
import { errorEnvelope, GatewayError, upstreamErrorMessage } from "./errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the client asked for. */
export interface ClientWants {
  protocol: WireProtocol;
  stream: boolean;
  /** The client's request body (stream options). */
  body: Record<string, unknown>;
}

/** Called when a relayed stream ends: whether it completed, and the reason if not. */
export type StreamEndHook = (ok: boolean, error?: unknown) => void;

function tryParse(bytes: Uint8Array<ArrayBuffer>): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
}

/** A JSON Response. */
export function jsonResponse(status: number, body: unknown, headers: ResponseHeaders = {}) {
  headers["content-type"] = "application/json";
  return new Response(JSON.stringify(body), { status, headers });
}

function hasContent(events: readonly AnswerEvent[]): boolean {
  return events.some((e) => e.type === "text" || e.type === "tool_call" || e.type === "reasoning");
}

/**
 * Makes sure a success answer that must be converted is whole before a byte
 * goes out, so a broken one becomes the protocol's 502 instead of a 200:
 * a stream a JSON client waits for is read to its end here (an interruption
 * or a missing stop is an error), and a JSON body to be re-encoded (as a
 * stream, or in another protocol) must parse as an answer — never an
 * invented empty one. Same-protocol relays are left alone.
 */
export async function settleBody(answer: Answer, wants: ClientWants): Promise<Answer> {
  if (answer.status >= 400) return answer;
  const body = answer.body;
  if (body.kind === "sse" && !wants.stream) {
    const events: AnswerEvent[] = [];
    try {
      for await (const ev of decodeSseStream(body.stream, answer.protocol)) events.push(ev);
    } catch (e) {
      throw new GatewayError(502, "upstream_error", streamErrorMessage(e));
    }
    if (!events.some((e) => e.type === "stop")) {
      throw new GatewayError(
        502,
        "upstream_error",
        streamErrorMessage(new Error("the upstream stream ended without a stop event")),
      );
    }
    return { ...answer, body: { kind: "events", events } };
  }
  if (body.kind === "json" && (answer.protocol !== wants.protocol || wants.stream)) {
    const parsed = tryParse(body.bytes);
    const events = parsed === undefined ? [] : CODECS[answer.protocol].decodeJson(parsed);
    const stop = events.findLast((e) => e.type === "stop");
    if (!hasContent(events) && (stop?.type !== "stop" || stop.unfinished)) {
      throw new GatewayError(
        502,
        "upstream_error",
        `the provider answered HTTP ${answer.status} with a body that is not a complete ${answer.protocol} answer; retry the request`,
      );
    }
  }
  return answer;
}

/** Encodes an answer for the client. */
export function encodeAnswer(
  answer: Answer,
  wants: ClientWants,
  headers: ResponseHeaders,
  onStreamEnd: StreamEndHook = () => {},
): Response {
  Object.assign(headers, answer.headers, answer.layerHeaders);
  const same = answer.protocol === wants.protocol;
  const body = answer.body;

  if (answer.status >= 400) {
    const bytes = body.kind === "json" ? body.bytes : new Uint8Array();
    const parsed = tryParse(bytes);
    if (same && parsed !== undefined) {
      headers["content-type"] = "application/json";
      return new Response(bytes, { status: answer.status, headers });
    }
    // Keep the provider's status and message, in the client's envelope.
    const message = upstreamErrorMessage(parsed ?? decoder.decode(bytes), answer.status);
    return jsonResponse(
      answer.status,
      errorEnvelope(wants.protocol, answer.status, message),
      headers,
    );
  }

  if (body.kind === "json" && same && !wants.stream) {
    headers["content-type"] = "application/json";
    return new Response(body.bytes, { status: answer.status, headers });
  }
  if (body.kind === "sse" && same && wants.stream) {
    return sseResponse(relaySse(body.stream, wants.protocol, onStreamEnd), headers);
  }
  if (body.kind === "sse") {
    const events = decodeSseStream(body.stream, answer.protocol);
    return wants.stream
      ? sseResponse(encodeEventStream(events, wants, onStreamEnd), headers)
      : collectToJson(events, wants, headers);
  }
  if (body.kind === "recording") {
    const native = nativeReplay(body.recording, wants, headers);
    if (native) return native;
  }
  const events = body.kind === "events"
    ? body.events
    : body.kind === "recording"
    ? body.recording.events
    : CODECS[answer.protocol].decodeJson(tryParse(body.bytes));
  if (!wants.stream) {
    return jsonResponse(200, CODECS[wants.protocol].encodeJson(events), headers);
  }
  return sseResponse(encodeEventStream(fromArray(events), wants, onStreamEnd), headers);
}

function sseResponse(stream: ReadableStream<Uint8Array>, headers: ResponseHeaders): Response {
  headers["content-type"] = "text/event-stream; charset=utf-8";
  headers["cache-control"] = "no-cache";
  return new Response(stream, { status: 200, headers });
}

/**
 * Relays upstream SSE bytes unchanged. If the upstream fails mid-stream, the
 * client gets an error event in its protocol (never a silent clean end).
 */
function relaySse(
  upstream: ReadableStream<Uint8Array>,
  protocol: WireProtocol,
  onEnd: StreamEndHook,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          out.close();
          onEnd(true);
        } else {
          out.enqueue(value);
        }
      } catch (e) {
        out.enqueue(encoder.encode(CODECS[protocol].streamError(streamErrorMessage(e))));
        out.close();
        onEnd(false, e);
      }
    },
    cancel(reason) {
      onEnd(false, reason);
      return reader.cancel(reason);
    },
  });
}

function streamErrorMessage(e: unknown): string {
  const detail = e instanceof Error ? e.message : String(e);
  return `the upstream stream was interrupted (${detail}); the answer is incomplete, retry the request`;
}

/** Async iterator of answer events decoded from an upstream SSE byte stream. */
async function* decodeSseStream(
  upstream: ReadableStream<Uint8Array>,
  protocol: WireProtocol,
): AsyncGenerator<AnswerEvent> {
  const parser = new SseParser();
  const dec = CODECS[protocol].streamDecoder();
  const text = new TextDecoder();
  const reader = upstream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const ev of parser.push(text.decode(value, { stream: true }))) yield* dec.decode(ev);
    }
    for (const ev of parser.flush()) yield* dec.decode(ev);
    yield* dec.finish();
  } finally {
    reader.releaseLock();
    await upstream.cancel().catch(() => {});
  }
}

async function* fromArray(events: AnswerEvent[]): AsyncGenerator<AnswerEvent> {
  yield* events;
}

/** Encodes answer events as the client's SSE, event by event, as they come. */
function encodeEventStream(
  events: AsyncGenerator<AnswerEvent>,
  wants: ClientWants,
  onEnd: StreamEndHook,
): ReadableStream<Uint8Array> {
  const enc = CODECS[wants.protocol].streamEncoder(wants.body);
  let sawStop = false;
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      try {
        // Pull until something is written: a pull that enqueues nothing is never called again.
        while (true) {
          const { done, value } = await events.next();
          if (done) {
            if (!sawStop) throw new Error("the upstream stream ended without a stop event");
            out.close();
            onEnd(true);
            return;
          }
          if (value.type === "stop") sawStop = true;
          let text = "";
          for (const ev of enc.encode(value)) text += encodeSse(ev);
          if (text) return out.enqueue(encoder.encode(text));
        }
      } catch (e) {
        out.enqueue(encoder.encode(CODECS[wants.protocol].streamError(streamErrorMessage(e))));
        out.close();
        onEnd(false, e);
      }
    },
    async cancel(reason) {
      onEnd(false, reason);
      await events.return(undefined);
    },
  });
}

/** Reads a whole upstream stream and answers with the client's JSON. */
function collectToJson(
  events: AsyncGenerator<AnswerEvent>,
  wants: ClientWants,
  headers: ResponseHeaders,
): Response {
  // The body is produced lazily so the caller still gets a Response object at once.
  const body = (async () => {
    const all: AnswerEvent[] = [];
    for await (const ev of events) all.push(ev);
    return JSON.stringify(CODECS[wants.protocol].encodeJson(all));
  })();
  headers["content-type"] = "application/json";
  return new Response(
    new ReadableStream<Uint8Array>({
      async start(out) {
        try {
          out.enqueue(encoder.encode(await body));
          out.close();
        } catch (e) {
          out.error(e);
        }
      },
    }),
    { status: 200, headers },
  );
}

/**
 * Replays a recording in its own protocol and mode: the JSON body as it was,
 * or the SSE events one by one in their original order. Null when the client
 * wants another protocol or mode (or, for OpenAI, another usage-chunk choice):
 * then the recording's events are re-encoded instead.
 */
function nativeReplay(
  rec: Recording,
  wants: ClientWants,
  headers: ResponseHeaders,
): Response | null {
  if (rec.protocol !== wants.protocol) return null;
  if (rec.mode === "json" && !wants.stream && rec.json !== undefined) {
    headers["content-type"] = "application/json";
    return new Response(rec.json, { status: 200, headers });
  }
  if (rec.mode === "sse" && wants.stream && rec.sse) {
    if (rec.protocol === "openai_chat" && rec.includeUsage !== wantsUsageChunk(wants.body)) {
      return null;
    }
    const events = rec.sse;
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(out) {
        // One event per chunk: a replay keeps the event sequence, never one burst.
        if (i < events.length) out.enqueue(encoder.encode(encodeSse(events[i++])));
        else out.close();
      },
    });
    return sseResponse(stream, headers);
  }
  return null;
}
