/**
 * A recording: a complete upstream answer, kept as the provider sent it
 * (native JSON body or SSE events) and as protocol-neutral events, so it can
 * be replayed byte-faithfully in its own protocol and mode, or re-encoded for
 * any other.
 *
 * Only complete answers become recordings: a JSON body with a stop reason, or
 * a stream that ended cleanly after its terminal event. Errors, cut or
 * aborted streams never do.
 *
 * @module
 */

import { CODECS } from "../protocol/codecs.ts";
import type { AnswerEvent, SseEvent, StopReason, WireProtocol } from "../protocol/events.ts";
import { SseParser } from "../protocol/sse.ts";
import { geminiStreamComplete } from "../protocol/gemini.ts";
import type { Answer, ChatRequest } from "../pipeline/types.ts";

/** A complete answer, ready to replay. */
export interface Recording {
  v: 1;
  protocol: WireProtocol;
  mode: "json" | "sse";
  /** The native JSON body text (mode "json"). */
  json?: string;
  /** The native SSE events, in order (mode "sse"). */
  sse?: SseEvent[];
  /** Whether the recorded OpenAI stream carried a usage chunk (`stream_options.include_usage`). */
  includeUsage?: boolean;
  /**
   * Set when the native answer holds parts the neutral events cannot carry
   * (logprobs, citations, server-tool or redacted-thinking blocks): such a
   * recording is replayed only in its own protocol and mode, never re-encoded.
   */
  nativeOnly?: boolean;
  /** The answer as neutral events. */
  events: AnswerEvent[];
  /** When it was recorded (ms since the epoch). */
  createdAt: number;
}

/**
 * Receives the recording of an answer, or null with, when the answer failed,
 * what identical waiting requests should get instead (src/layers/flight.ts).
 */
export type RecordDone = (
  rec: Recording | null,
  failure?: { kind: "error"; error: unknown } | { kind: "answer"; answer: Answer },
) => void;

/** Stop reasons of answers worth replaying; refusals and paused turns are not. */
const CACHEABLE_STOPS: ReadonlySet<StopReason> = new Set([
  "end_turn",
  "max_tokens",
  "tool_use",
  "stop_sequence",
]);

/**
 * Whether events form a complete answer that may be cached: some content and
 * a terminal stop event with a replayable reason that the provider sent as a
 * finished one (never null, missing, unknown or `"error"`).
 */
export function isCompleteAnswer(events: readonly AnswerEvent[]): boolean {
  const last = events.findLast((e) => e.type === "stop");
  const content = events.some((e) =>
    e.type === "text" || e.type === "tool_call" || e.type === "reasoning"
  );
  return content && last?.type === "stop" && CACHEABLE_STOPS.has(last.reason) &&
    last.unfinished !== true;
}

/** Whether a client request asked OpenAI for the usage chunk. */
export function wantsUsageChunk(body: Record<string, unknown>): boolean {
  const o = body.stream_options;
  return typeof o === "object" && o !== null &&
    (o as Record<string, unknown>).include_usage === true;
}

const decoder = new TextDecoder();

/**
 * Native parts that answer events cannot carry, per protocol: token
 * logprobs; citations, server-tool and redacted-thinking blocks; Responses
 * output items other than messages, function calls and reasoning.
 */
const UNREPRESENTABLE: Readonly<Record<WireProtocol, RegExp>> = {
  openai_chat: /"(?:logprobs|audio)"\s*:\s*[\[{]|"annotations"\s*:\s*\[\s*\{/,
  anthropic:
    /"type"\s*:\s*"(?:redacted_thinking|server_tool_use|[a-z_]*_tool_result|citations_delta|document|image)"|"citations"\s*:\s*\[\s*\{/,
  openai_responses:
    /"type"\s*:\s*"(?!message"|function_call"|reasoning"|output_text"|summary_text"|response\.|function_call_arguments|input_text")[a-z_]+_call"|"(?:logprobs)"\s*:\s*\[\s*\{|"annotations"\s*:\s*\[\s*\{/,
  // Grounding and citation metadata, code execution, inline media, several
  // candidates. (Thought signatures: see canReplay.)
  gemini:
    /"(?:groundingMetadata|citationMetadata|executableCode|codeExecutionResult|inlineData|fileData|logprobsResult)"|"index"\s*:\s*[1-9]/,
};

/**
 * Whether a recording can answer this request: always when the client asks
 * for its own protocol and mode (native replay); otherwise only if nothing in
 * it would be lost in re-encoding.
 */
export function canReplay(
  rec: Recording,
  req: Pick<ChatRequest, "protocol" | "stream" | "body">,
): boolean {
  const sameMode = (rec.mode === "sse") === req.stream;
  // Gemini's thought signatures must go back to Gemini with the next request,
  // and the events do not carry them: a signed answer reaches a Gemini client
  // only as it was sent (another client could not send them back anyway).
  if (rec.protocol === "gemini" && req.protocol === "gemini" && !sameMode && signed(rec)) {
    return false;
  }
  if (!rec.nativeOnly) return true;
  const native = rec.protocol === req.protocol && (rec.mode === "sse") === req.stream &&
    (rec.protocol !== "openai_chat" || !req.stream ||
      rec.includeUsage === wantsUsageChunk(req.body));
  return native;
}

function signed(rec: Recording): boolean {
  return rec.json !== undefined
    ? rec.json.includes('"thoughtSignature"')
    : (rec.sse ?? []).some((e) => e.data.includes('"thoughtSignature"'));
}

/** Records a complete JSON answer, or returns null when it is not cacheable. */
export function recordJson(
  protocol: WireProtocol,
  bytes: Uint8Array,
  now: number = Date.now(),
): Recording | null {
  const json = decoder.decode(bytes);
  let events: AnswerEvent[];
  try {
    events = CODECS[protocol].decodeJson(JSON.parse(json));
  } catch {
    return null;
  }
  if (!isCompleteAnswer(events)) return null;
  const rec: Recording = { v: 1, protocol, mode: "json", json, events, createdAt: now };
  if (UNREPRESENTABLE[protocol].test(json)) rec.nativeOnly = true;
  return rec;
}

/**
 * Watches an SSE byte stream as it is relayed and, if it ends cleanly with a
 * terminal event, produces its recording. It never delays or changes the bytes.
 */
export class SseRecorder {
  #parser = new SseParser();
  #decoder;
  #text = new TextDecoder();
  #sse: SseEvent[] = [];
  #events: AnswerEvent[] = [];
  #failed = false;

  constructor(readonly protocol: WireProtocol, readonly includeUsage: boolean) {
    this.#decoder = CODECS[protocol].streamDecoder();
  }

  /** Feeds relayed bytes. */
  push(chunk: Uint8Array): void {
    if (this.#failed) return;
    try {
      for (const ev of this.#parser.push(this.#text.decode(chunk, { stream: true }))) {
        this.#sse.push(ev);
        for (const a of this.#decoder.decode(ev)) this.#events.push(a);
      }
    } catch {
      // An error event or a malformed stream: relay it, never record it.
      this.#failed = true;
    }
  }

  /**
   * Whether the provider sent its protocol's own end of stream: OpenAI's
   * `[DONE]` (after the usage chunk, when one was asked for), Anthropic's
   * `message_stop`, the Responses API's `response.completed`, Gemini's chunk
   * with a `finishReason` (its stream has no end marker). A stream that
   * merely stopped is never recorded.
   */
  #sawTerminal(): boolean {
    const events = this.#sse;
    switch (this.protocol) {
      case "openai_chat":
        return events.at(-1)?.data.trim() === "[DONE]" &&
          (!this.includeUsage || this.#events.some((e) => e.type === "usage"));
      case "anthropic":
        return events.some((e) => e.event === "message_stop");
      case "openai_responses":
        return events.some((e) =>
          e.event === "response.completed" || e.data.includes('"type":"response.completed"')
        );
      case "gemini":
        return geminiStreamComplete(events);
    }
  }

  /** The stream ended cleanly: the recording, or null if the answer was not complete. */
  finish(now: number = Date.now()): Recording | null {
    if (this.#failed) return null;
    try {
      for (const ev of this.#parser.flush()) {
        this.#sse.push(ev);
        for (const a of this.#decoder.decode(ev)) this.#events.push(a);
      }
      for (const a of this.#decoder.finish()) this.#events.push(a);
    } catch {
      return null;
    }
    if (!isCompleteAnswer(this.#events) || !this.#sawTerminal()) return null;
    const rec: Recording = {
      v: 1,
      protocol: this.protocol,
      mode: "sse",
      sse: this.#sse,
      includeUsage: this.includeUsage,
      events: this.#events,
      createdAt: now,
    };
    const pattern = UNREPRESENTABLE[this.protocol];
    if (this.#sse.some((e) => pattern.test(e.data))) rec.nativeOnly = true;
    return rec;
  }
}

/**
 * Wraps a relayed SSE stream with a recorder. `onDone` gets the recording
 * when the stream completed, or null when it failed, was cut or cancelled.
 */
export function recordSseStream(
  stream: ReadableStream<Uint8Array>,
  recorder: SseRecorder,
  onDone: (rec: Recording | null) => void,
  now: () => number = Date.now,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let settled = false;
  const settle = (rec: Recording | null) => {
    if (!settled) {
      settled = true;
      onDone(rec);
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (e) {
        settle(null);
        out.error(e);
        return;
      }
      if (result.done) {
        out.close();
        settle(recorder.finish(now()));
        return;
      }
      recorder.push(result.value);
      out.enqueue(result.value);
    },
    cancel(reason) {
      settle(null);
      return reader.cancel(reason);
    },
  });
}

const encoder = new TextEncoder();

/** Serializes a recording for a store. */
export function encodeRecording(rec: Recording): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(rec));
}

/** Parses a stored recording; null if it is not one (a foreign or older format). */
export function decodeRecording(bytes: Uint8Array): Recording | null {
  try {
    const rec = JSON.parse(decoder.decode(bytes));
    return rec && rec.v === 1 && Array.isArray(rec.events) ? rec as Recording : null;
  } catch {
    return null;
  }
}

/**
 * Records an answer on its way back to the client: JSON at once, a stream
 * once it ends cleanly, a replayed recording as it is. `done` receives the
 * recording, or null for anything that is not a complete answer (errors, cut
 * or cancelled streams). Returns the answer to relay: the same one, or one
 * whose stream is watched as it passes.
 */
export function recordAnswer(
  answer: Answer,
  req: ChatRequest,
  done: RecordDone,
  now: () => number = Date.now,
): Answer {
  // Only what the provider answered is recorded: an answer a cache served
  // (an L1b similarity match) must never become an exact hit for this request.
  // An L2 answer only with `layer2.cache_answers` (answer.cacheable).
  if (answer.status !== 200 || (answer.layer !== "l3" && !answer.cacheable)) {
    // A provider's error answer (read whole) is what identical requests would get too.
    const shareable = answer.layer === "l3" && answer.status >= 400 && answer.body.kind === "json";
    done(null, shareable ? { kind: "answer", answer } : undefined);
    return answer;
  }
  const body = answer.body;
  if (body.kind === "json") {
    done(recordJson(answer.protocol, body.bytes, now()));
    return answer;
  }
  if (body.kind === "sse") {
    // Cross-protocol streams were asked for usage by the translation.
    const includeUsage = answer.protocol === req.protocol ? wantsUsageChunk(req.body) : true;
    const recorder = new SseRecorder(answer.protocol, includeUsage);
    const stream = recordSseStream(body.stream, recorder, (rec) => done(rec), now);
    return { ...answer, body: { kind: "sse", stream } };
  }
  done(null);
  return answer;
}

/**
 * Runs the rest of the cascade and records its answer on the way back; a
 * failure settles `done` with null before it propagates. The shared miss path
 * of the cache layers.
 */
export async function answerAndRecord(
  next: () => Promise<Answer>,
  req: ChatRequest,
  done: RecordDone,
  now: () => number = Date.now,
): Promise<Answer> {
  let answer: Answer;
  try {
    answer = await next();
  } catch (e) {
    done(null, { kind: "error", error: e });
    throw e;
  }
  return recordAnswer(answer, req, done, now);
}
