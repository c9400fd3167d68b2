/**
 * A mock LLM provider listening on a real socket (`Deno.serve` on 127.0.0.1, ephemeral port),
 * used by the gateway's end-to-end tests and benchmarks.
 *
 * It speaks OpenAI Chat Completions, OpenAI Responses, Anthropic Messages and the Gemini API
 * (`/models/{m}:generateContent`, `:streamGenerateContent?alt=sse`, `:countTokens`) (JSON and SSE),
 * with response shapes written by hand (independent from the gateway's code), and can be told to
 * misbehave (errors, delays, cut connections, hangs, slow streams) per request.
 *
 * Everything that does not depend on the request (answer pieces, their JSON encodings, static
 * Anthropic events) is precomputed so the server stays cheap under high concurrency.
 *
 * @module
 */

/** A request as received by the mock. */
export interface ReceivedRequest {
  /** HTTP method, e.g. `POST`. */
  method: string;
  /** URL path, e.g. `/v1/chat/completions`. */
  path: string;
  /** URL query string including the leading `?`, or `""`. */
  search: string;
  /** Request headers, names lowercased. */
  headers: Record<string, string>;
  /** Parsed JSON body, or `null` when the body is empty or not JSON. */
  body: unknown;
  /** The body as received. */
  rawBody: string;
}

/** How the mock answers one request. */
export type Behaviour =
  | { kind: "ok" }
  | { kind: "error"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Wait `ms` before sending headers, then answer normally. */
  | { kind: "delay"; ms: number }
  /** Streams: send `afterEvents` SSE events then drop the connection. JSON: send half the body. */
  | { kind: "cut"; afterEvents: number }
  /** Never answer; the handler returns once the client aborts (or the mock closes). */
  | { kind: "hang" }
  /** Streams: wait `eventDelayMs` between SSE events. JSON answers are unaffected. */
  | { kind: "slow_stream"; eventDelayMs: number };

/** A canned tool call the mock answers with. */
export interface MockToolCall {
  /** Tool call id, used verbatim (`call_id` for Responses, `tool_use.id` for Anthropic). */
  id: string;
  /** Function / tool name. */
  name: string;
  /** JSON-encoded arguments, streamed in fragments. */
  arguments: string;
}

/** Options for {@linkcode startMockUpstream}. */
export interface MockUpstreamOptions {
  /**
   * Canned answer: text to answer with, or a tool call (or both: text first, then the tool call).
   * Defaults to {@linkcode DEFAULT_ANSWER_TEXT}.
   */
  answer?: { text?: string; toolCall?: MockToolCall };
  /**
   * Chooses the answer per request (an agent's turn: a tool call first, text once the tool
   * result is back); `null` or `undefined` falls back to `answer`. Usage is `usage`'s.
   * `route` is `"chat"`, `"messages"` or `"responses"`.
   */
  answerFor?: (
    body: Record<string, unknown>,
    route: string,
  ) => { text?: string; toolCall?: MockToolCall } | null | undefined;
  /** Token usage reported in answers. Defaults to {@linkcode DEFAULT_USAGE}. */
  usage?: { input: number; output: number };
  /** Record received requests in `requests` (default `true`; disable for long benchmarks). */
  record?: boolean;
  /**
   * Chooses the answer per model request (e.g. a tool call, then text once the tool result is
   * back: see tests/support/agent_script.ts). `null` means the canned `answer`.
   */
  script?: (request: ScriptedRequest) => MockAnswer | null;
}

/** A model request as a {@linkcode MockUpstreamOptions.script} sees it. */
export interface ScriptedRequest {
  /** The protocol family of the route. */
  protocol: "openai_chat" | "openai_responses" | "anthropic" | "gemini";
  /** URL path, e.g. `/v1beta/models/gemini-2.5-pro:streamGenerateContent`. */
  path: string;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
}

/** An answer chosen by a script: text, a tool call, or both (text first). */
export interface MockAnswer {
  text?: string;
  toolCall?: MockToolCall;
}

/** One SSE event as sent by the mock. */
export interface SentEvent {
  /** The `event:` field, absent for OpenAI Chat Completions. */
  event?: string;
  /** The `data:` field. */
  data: string;
}

/** What the mock sent for a response. */
export interface LastSent {
  /** JSON answers: the body object (or the string given as an error body). Unset for a cut. */
  json?: unknown;
  /** Streamed answers: the events sent (for a cut: only the events sent before dropping). */
  sse?: SentEvent[];
  /** JSON answers: the exact body text sent (for a cut: the partial text). */
  raw?: string;
  /** HTTP status sent. */
  status: number;
  /** Response headers sent (lowercase names). */
  headers: Record<string, string>;
}

/** A running mock upstream. */
export interface MockUpstream {
  /** Base URL, e.g. `http://127.0.0.1:43125` (any path prefix such as `/v1` works). */
  readonly url: string;
  /** Listening port. */
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: ReceivedRequest[];
  /** Queue behaviours consumed one per routed request (FIFO); when empty, `defaultBehaviour` applies. */
  enqueue(...b: Behaviour[]): void;
  /** Behaviour used when the queue is empty. */
  defaultBehaviour: Behaviour;
  /** Number of requests whose client went away before the response finished. */
  readonly aborted: number;
  /** Resolves when the next client abort is observed. */
  nextAbort(): Promise<void>;
  /** What was sent for the last response, to compare with what clients receive. */
  readonly lastSent: LastSent | null;
  /** Clear requests, queue, counters and `lastSent`; restore `defaultBehaviour` to `ok`. */
  reset(): void;
  /** Stop the server (pending hangs get a 503, pending slow streams are cut). */
  close(): Promise<void>;
}

/** Text answered when no `answer` option is given. */
export const DEFAULT_ANSWER_TEXT = "Hello! This is a canned answer from the mock upstream.";

/** Usage reported when no `usage` option is given. */
export const DEFAULT_USAGE: { readonly input: number; readonly output: number } = {
  input: 12,
  output: 10,
};

/** A request max-token limit below this makes the answer truncated ("length"/"max_tokens"). */
export const TRUNCATE_BELOW_MAX_TOKENS = 3;

/** Request header carrying a JSON {@linkcode Behaviour} that overrides the queue. */
export const MOCK_BEHAVIOUR_HEADER = "x-mock-behaviour";

/** Model echoed when the request names none. */
const DEFAULT_MODEL = "mock-model";
const FINGERPRINT = "fp_mock";
/** Delay before dropping the connection, so the bytes already enqueued reach the socket. */
const CUT_FLUSH_MS = 10;

const encoder = new TextEncoder();

/** Error used to drop a connection on purpose (filtered out of the server's error log). */
class CutError extends Error {
  constructor(message = "mock upstream: connection cut") {
    super(message);
    this.name = "CutError";
  }
}

// ---------------------------------------------------------------------------------------------
// Answer plans (precomputed)

interface ToolPlan {
  id: string;
  name: string;
  arguments: string;
  argPieces: string[];
  /** `arguments` parsed as a JSON object (`{}` when not an object). */
  input: unknown;
}

interface Plan {
  /** `null` when answering with a tool call only. */
  text: string | null;
  pieces: string[];
  /** JSON string literals of `pieces`. */
  piecesJson: string[];
  tool: ToolPlan | null;
  /** JSON string literals of `tool.argPieces`. */
  argPiecesJson: string[];
  truncated: boolean;
  inputTokens: number;
  outputTokens: number;
  /** Static Anthropic SSE events following `message_start`. */
  anthropicTail: SentEvent[];
  /** Anthropic content blocks for JSON answers. */
  anthropicContent: unknown[];
}

function splitEven(chars: string[], parts: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < parts; i++) {
    const from = Math.round((i * chars.length) / parts);
    const to = Math.round(((i + 1) * chars.length) / parts);
    if (to > from) out.push(chars.slice(from, to).join(""));
  }
  return out;
}

/** Split text into word-ish pieces (`"Hello"`, `" world"`), at least 3 when the text allows. */
function splitText(text: string): string[] {
  if (text === "") return [];
  const words = text.match(/\s*\S+|\s+/g) ?? [text];
  if (words.length >= 3) return words;
  const chars = Array.from(text);
  return splitEven(chars, Math.min(3, chars.length));
}

/** Split tool arguments into fragments of at most 12 characters, at least 3 when possible. */
function splitArgs(args: string): string[] {
  if (args === "") return [];
  const chars = Array.from(args);
  const parts = Math.max(Math.min(3, chars.length), Math.ceil(chars.length / 12));
  return splitEven(chars, parts);
}

function parseObject(json: string): unknown {
  try {
    const v: unknown = JSON.parse(json);
    return isRecord(v) ? v : {};
  } catch {
    return {};
  }
}

function anthropicEvent(data: unknown): SentEvent {
  const d = data as { type: string };
  return { event: d.type, data: JSON.stringify(data) };
}

function buildPlan(
  text: string | null,
  tool: MockToolCall | null,
  usage: { input: number; output: number },
  truncateTo: number | null,
): Plan {
  let pieces = text === null ? [] : splitText(text);
  let outputTokens = usage.output;
  const truncated = truncateTo !== null;
  if (truncated) {
    const keep = Math.max(1, truncateTo);
    pieces = pieces.slice(0, keep);
    text = pieces.join("");
    tool = null;
    outputTokens = Math.min(usage.output, keep);
  }
  const toolPlan: ToolPlan | null = tool === null ? null : {
    id: tool.id,
    name: tool.name,
    arguments: tool.arguments,
    argPieces: splitArgs(tool.arguments),
    input: parseObject(tool.arguments),
  };

  // Anthropic static parts.
  const stopReason = truncated ? "max_tokens" : toolPlan ? "tool_use" : "end_turn";
  const tail: SentEvent[] = [];
  const content: unknown[] = [];
  let index = 0;
  const ping: SentEvent = { event: "ping", data: '{"type": "ping"}' };
  if (text !== null) {
    content.push({ type: "text", text });
    tail.push(anthropicEvent({
      type: "content_block_start",
      index,
      content_block: { type: "text", text: "" },
    }));
    tail.push(ping);
    for (const piece of pieces) {
      tail.push(anthropicEvent({
        type: "content_block_delta",
        index,
        delta: { type: "text_delta", text: piece },
      }));
    }
    tail.push(anthropicEvent({ type: "content_block_stop", index }));
    index++;
  }
  if (toolPlan !== null) {
    content.push({ type: "tool_use", id: toolPlan.id, name: toolPlan.name, input: toolPlan.input });
    tail.push(anthropicEvent({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: toolPlan.id, name: toolPlan.name, input: {} },
    }));
    if (index === 0) tail.push(ping);
    for (const piece of ["", ...toolPlan.argPieces]) {
      tail.push(anthropicEvent({
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: piece },
      }));
    }
    tail.push(anthropicEvent({ type: "content_block_stop", index }));
  }
  tail.push(anthropicEvent({
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  }));
  tail.push(anthropicEvent({ type: "message_stop" }));

  return {
    text,
    pieces,
    piecesJson: pieces.map((p) => JSON.stringify(p)),
    tool: toolPlan,
    argPiecesJson: toolPlan ? toolPlan.argPieces.map((p) => JSON.stringify(p)) : [],
    truncated,
    inputTokens: usage.input,
    outputTokens,
    anthropicTail: tail,
    anthropicContent: content,
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return isRecord(v) && Object.values(v).every((x) => typeof x === "string");
}

function isNonNegative(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/** Validate a behaviour coming from the `x-mock-behaviour` header. */
function parseBehaviour(text: string): Behaviour | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(v)) return null;
  switch (v.kind) {
    case "ok":
    case "hang":
      return { kind: v.kind };
    case "error": {
      const status = v.status;
      if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
        return null;
      }
      if (v.headers !== undefined && !isStringRecord(v.headers)) return null;
      const b: Behaviour = { kind: "error", status };
      if (v.body !== undefined) b.body = v.body;
      if (v.headers !== undefined) b.headers = v.headers;
      return b;
    }
    case "delay":
      return isNonNegative(v.ms) ? { kind: "delay", ms: v.ms } : null;
    case "cut":
      return isNonNegative(v.afterEvents) ? { kind: "cut", afterEvents: v.afterEvents } : null;
    case "slow_stream":
      return isNonNegative(v.eventDelayMs)
        ? { kind: "slow_stream", eventDelayMs: v.eventDelayMs }
        : null;
    default:
      return null;
  }
}

type WaitResult = "elapsed" | "aborted";

/** Wait `ms` (or forever when `null`) unless one of `signals` aborts first. Never leaks timers. */
function wait(ms: number | null, signals: AbortSignal[]): Promise<WaitResult> {
  for (const s of signals) if (s.aborted) return Promise.resolve("aborted");
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (r: WaitResult) => {
      if (timer !== undefined) clearTimeout(timer);
      for (const s of signals) s.removeEventListener("abort", onAbort);
      resolve(r);
    };
    const onAbort = () => finish("aborted");
    for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
    if (ms !== null) timer = setTimeout(() => finish("elapsed"), ms);
  });
}

function encodeEvent(e: SentEvent): Uint8Array {
  // Gemini ends its events with CRLF pairs.
  if (e.event === undefined && e.data.startsWith('{"candidates"')) {
    return encoder.encode(`data: ${e.data}\r\n\r\n`);
  }
  return encoder.encode(
    e.event === undefined ? `data: ${e.data}\n\n` : `event: ${e.event}\ndata: ${e.data}\n\n`,
  );
}

type Route =
  | "chat"
  | "messages"
  | "count_tokens"
  | "responses"
  | "models"
  | "gemini_generate"
  | "gemini_stream"
  | "gemini_count";
type Family = "openai" | "anthropic" | "gemini";

function matchRoute(method: string, path: string): Route | null {
  if (method === "POST") {
    if (/\/models\/[^/]+:generateContent$/.test(path)) return "gemini_generate";
    if (/\/models\/[^/]+:streamGenerateContent$/.test(path)) return "gemini_stream";
    if (/\/models\/[^/]+:countTokens$/.test(path)) return "gemini_count";
    if (path.endsWith("/chat/completions")) return "chat";
    if (path.endsWith("/messages/count_tokens")) return "count_tokens";
    if (path.endsWith("/messages")) return "messages";
    if (path.endsWith("/responses")) return "responses";
  } else if (method === "GET" && path.endsWith("/models")) {
    return "models";
  }
  return null;
}

/**
 * Error body in the family's style. Without `message`, the generic `mock error <status>` body of
 * the `error` behaviour (`server_error` / `api_error`); with it, an `invalid_request_error`.
 */
function defaultErrorBody(family: Family, status: number, message?: string): unknown {
  const msg = message ?? `mock error ${status}`;
  if (family === "gemini") {
    const name = status === 400
      ? "INVALID_ARGUMENT"
      : status === 429
      ? "RESOURCE_EXHAUSTED"
      : "INTERNAL";
    return { error: { code: status, message: msg, status: name } };
  }
  if (family === "anthropic") {
    const type = message === undefined ? "api_error" : "invalid_request_error";
    return { type: "error", error: { type, message: msg } };
  }
  const type = message === undefined ? "server_error" : "invalid_request_error";
  return { error: { message: msg, type, param: null, code: null } };
}

/** Per-request answer context. */
interface Ctx {
  n: number;
  model: string;
  created: number;
  body: Record<string, unknown>;
  plan: Plan;
}

/** What to send, before delivery shaping (cut / slow). */
type Rendered =
  | { kind: "json"; status: number; json: unknown; headers: Record<string, string> }
  | { kind: "sse"; events: SentEvent[]; headers: Record<string, string> };

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions

function chatUsage(c: Ctx): Record<string, unknown> {
  const p = c.plan;
  return {
    prompt_tokens: p.inputTokens,
    completion_tokens: p.outputTokens,
    total_tokens: p.inputTokens + p.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function chatFinishReason(p: Plan): string {
  return p.truncated ? "length" : p.tool ? "tool_calls" : "stop";
}

function chatJson(c: Ctx): unknown {
  const p = c.plan;
  const message: Record<string, unknown> = { role: "assistant", content: p.text };
  if (p.tool) {
    message.tool_calls = [{
      id: p.tool.id,
      type: "function",
      function: { name: p.tool.name, arguments: p.tool.arguments },
    }];
  }
  message.refusal = null;
  message.annotations = [];
  return {
    id: `chatcmpl-mock-${c.n}`,
    object: "chat.completion",
    created: c.created,
    model: c.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: chatFinishReason(p) }],
    usage: chatUsage(c),
    service_tier: "default",
    system_fingerprint: FINGERPRINT,
  };
}

function chatEvents(c: Ctx): SentEvent[] {
  const p = c.plan;
  const opts = c.body.stream_options;
  const includeUsage = isRecord(opts) && opts.include_usage === true;
  const head =
    `{"id":"chatcmpl-mock-${c.n}","object":"chat.completion.chunk","created":${c.created},` +
    `"model":${JSON.stringify(c.model)},"service_tier":"default",` +
    `"system_fingerprint":"${FINGERPRINT}","choices":[`;
  const tail = includeUsage ? `],"usage":null}` : `]}`;
  const chunk = (delta: string, finish = "null"): SentEvent => ({
    data: `${head}{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}${tail}`,
  });
  const events: SentEvent[] = [];
  const toolStart = p.tool
    ? `"tool_calls":[{"index":0,"id":${JSON.stringify(p.tool.id)},"type":"function",` +
      `"function":{"name":${JSON.stringify(p.tool.name)},"arguments":""}}]`
    : "";
  if (p.text === null && p.tool) {
    events.push(chunk(`{"role":"assistant","content":null,${toolStart},"refusal":null}`));
  } else {
    events.push(chunk(`{"role":"assistant","content":"","refusal":null}`));
    for (const piece of p.piecesJson) events.push(chunk(`{"content":${piece}}`));
    if (p.tool) events.push(chunk(`{${toolStart}}`));
  }
  for (const frag of p.argPiecesJson) {
    events.push(chunk(`{"tool_calls":[{"index":0,"function":{"arguments":${frag}}}]}`));
  }
  events.push(chunk("{}", `"${chatFinishReason(p)}"`));
  if (includeUsage) {
    events.push({ data: `${head}],"usage":${JSON.stringify(chatUsage(c))}}` });
  }
  events.push({ data: "[DONE]" });
  return events;
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages

function anthropicUsage(input: number, output: number): Record<string, unknown> {
  return {
    input_tokens: input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: output,
    service_tier: "standard",
  };
}

function anthropicStopReason(p: Plan): string {
  return p.truncated ? "max_tokens" : p.tool ? "tool_use" : "end_turn";
}

function messagesJson(c: Ctx): unknown {
  const p = c.plan;
  return {
    id: `msg_mock_${c.n}`,
    type: "message",
    role: "assistant",
    model: c.model,
    content: p.anthropicContent,
    stop_reason: anthropicStopReason(p),
    stop_sequence: null,
    usage: anthropicUsage(p.inputTokens, p.outputTokens),
  };
}

function messagesEvents(c: Ctx): SentEvent[] {
  const start = anthropicEvent({
    type: "message_start",
    message: {
      id: `msg_mock_${c.n}`,
      type: "message",
      role: "assistant",
      model: c.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: anthropicUsage(c.plan.inputTokens, 1),
    },
  });
  return [start, ...c.plan.anthropicTail];
}

// ---------------------------------------------------------------------------------------------
// OpenAI Responses

function responsesUsage(p: Plan): Record<string, unknown> {
  return {
    input_tokens: p.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: p.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: p.inputTokens + p.outputTokens,
  };
}

function responseObject(
  c: Ctx,
  status: "in_progress" | "completed" | "incomplete",
  output: unknown[],
  usage: unknown,
): Record<string, unknown> {
  const b = c.body;
  return {
    id: `resp_mock_${c.n}`,
    object: "response",
    created_at: c.created,
    status,
    background: false,
    error: null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: c.model,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: b.store ?? true,
    temperature: b.temperature ?? 1,
    text: { format: { type: "text" } },
    tool_choice: b.tool_choice ?? "auto",
    tools: Array.isArray(b.tools) ? b.tools : [],
    top_p: b.top_p ?? 1,
    truncation: "disabled",
    usage,
    user: null,
    metadata: b.metadata ?? {},
  };
}

function responsesOutput(c: Ctx): Record<string, unknown>[] {
  const p = c.plan;
  const output: Record<string, unknown>[] = [];
  if (p.text !== null) {
    output.push({
      type: "message",
      id: `msg_mock_${c.n}`,
      status: p.truncated ? "incomplete" : "completed",
      role: "assistant",
      content: [{ type: "output_text", text: p.text, annotations: [], logprobs: [] }],
    });
  }
  if (p.tool) {
    output.push({
      type: "function_call",
      id: `fc_mock_${c.n}`,
      call_id: p.tool.id,
      name: p.tool.name,
      arguments: p.tool.arguments,
      status: "completed",
    });
  }
  return output;
}

function responsesJson(c: Ctx): unknown {
  const p = c.plan;
  return responseObject(
    c,
    p.truncated ? "incomplete" : "completed",
    responsesOutput(c),
    responsesUsage(p),
  );
}

function responsesEvents(c: Ctx): SentEvent[] {
  const p = c.plan;
  const events: SentEvent[] = [];
  let seq = 0;
  const push = (type: string, rest: Record<string, unknown>) => {
    events.push({ event: type, data: JSON.stringify({ type, sequence_number: seq++, ...rest }) });
  };
  const pushRaw = (type: string, rest: string) => {
    events.push({ event: type, data: `{"type":"${type}","sequence_number":${seq++},${rest}}` });
  };
  const initial = responseObject(c, "in_progress", [], null);
  push("response.created", { response: initial });
  push("response.in_progress", { response: initial });
  const final = responsesOutput(c);
  let outputIndex = 0;
  if (p.text !== null) {
    const itemId = `msg_mock_${c.n}`;
    const loc = `"item_id":"${itemId}","output_index":${outputIndex},"content_index":0`;
    push("response.output_item.added", {
      output_index: outputIndex,
      item: { id: itemId, type: "message", status: "in_progress", content: [], role: "assistant" },
    });
    push("response.content_part.added", {
      item_id: itemId,
      output_index: outputIndex,
      content_index: 0,
      part: { type: "output_text", annotations: [], logprobs: [], text: "" },
    });
    for (const piece of p.piecesJson) {
      pushRaw("response.output_text.delta", `${loc},"delta":${piece},"logprobs":[]`);
    }
    push("response.output_text.done", {
      item_id: itemId,
      output_index: outputIndex,
      content_index: 0,
      text: p.text,
      logprobs: [],
    });
    push("response.content_part.done", {
      item_id: itemId,
      output_index: outputIndex,
      content_index: 0,
      part: { type: "output_text", annotations: [], logprobs: [], text: p.text },
    });
    push("response.output_item.done", { output_index: outputIndex, item: final[outputIndex] });
    outputIndex++;
  }
  if (p.tool) {
    const itemId = `fc_mock_${c.n}`;
    push("response.output_item.added", {
      output_index: outputIndex,
      item: {
        id: itemId,
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: p.tool.id,
        name: p.tool.name,
      },
    });
    for (const frag of p.argPiecesJson) {
      pushRaw(
        "response.function_call_arguments.delta",
        `"item_id":"${itemId}","output_index":${outputIndex},"delta":${frag}`,
      );
    }
    push("response.function_call_arguments.done", {
      item_id: itemId,
      output_index: outputIndex,
      arguments: p.tool.arguments,
    });
    push("response.output_item.done", { output_index: outputIndex, item: final[outputIndex] });
  }
  const status = p.truncated ? "incomplete" : "completed";
  push(`response.${status}`, { response: responseObject(c, status, final, responsesUsage(p)) });
  return events;
}

// ---------------------------------------------------------------------------------------------
// Gemini API

/** The thought signature the mock puts on its function calls, as Gemini 2.5+ does. */
export const MOCK_THOUGHT_SIGNATURE = "bW9jay1zaWduYXR1cmU=";

function geminiUsage(p: Plan, output: number): Record<string, unknown> {
  return {
    promptTokenCount: p.inputTokens,
    candidatesTokenCount: output,
    totalTokenCount: p.inputTokens + output,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: p.inputTokens }],
  };
}

function geminiFinish(p: Plan): string {
  return p.truncated ? "MAX_TOKENS" : "STOP";
}

function geminiToolPart(p: Plan): Record<string, unknown> | null {
  if (!p.tool) return null;
  return {
    functionCall: { name: p.tool.name, args: p.tool.input },
    thoughtSignature: MOCK_THOUGHT_SIGNATURE,
  };
}

function geminiChunk(
  c: Ctx,
  parts: unknown[],
  finish: string | null,
  output: number,
): Record<string, unknown> {
  const candidate: Record<string, unknown> = { content: { parts, role: "model" } };
  if (finish) candidate.finishReason = finish;
  candidate.index = 0;
  return {
    candidates: [candidate],
    usageMetadata: geminiUsage(c.plan, output),
    modelVersion: c.model,
    responseId: `gemini_mock_${c.n}`,
  };
}

function geminiJson(c: Ctx): unknown {
  const p = c.plan;
  const parts: unknown[] = [];
  if (p.text !== null) parts.push({ text: p.text });
  const tool = geminiToolPart(p);
  if (tool) parts.push(tool);
  return geminiChunk(c, parts, geminiFinish(p), p.outputTokens);
}

/** Gemini SSE: one chunk per text piece; the function call whole, with the finish reason. */
function geminiEvents(c: Ctx): SentEvent[] {
  const p = c.plan;
  const events: SentEvent[] = [];
  const tool = geminiToolPart(p);
  p.pieces.forEach((piece, i) => {
    const last = i === p.pieces.length - 1 && !tool;
    events.push({
      data: JSON.stringify(
        geminiChunk(
          c,
          [{ text: piece }],
          last ? geminiFinish(p) : null,
          last ? p.outputTokens : i + 1,
        ),
      ),
    });
  });
  if (tool) {
    events.push({ data: JSON.stringify(geminiChunk(c, [tool], geminiFinish(p), p.outputTokens)) });
  }
  if (events.length === 0) {
    events.push({ data: JSON.stringify(geminiChunk(c, [{ text: "" }], geminiFinish(p), 0)) });
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Server

class MockUpstreamServer implements MockUpstream {
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[] = [];
  defaultBehaviour: Behaviour = { kind: "ok" };

  #server: Deno.HttpServer<Deno.NetAddr>;
  #queue: Behaviour[] = [];
  #aborted = 0;
  #abortWaiters: (() => void)[] = [];
  #lastSent: LastSent | null = null;
  #seq = 0;
  #record: boolean;
  #closing = new AbortController();
  #closed: Promise<void> | null = null;
  #text: string | null;
  #tool: MockToolCall | null;
  #usage: { input: number; output: number };
  #script: ((request: ScriptedRequest) => MockAnswer | null) | null;
  #fullPlan: Plan;
  #truncatedPlans = new Map<number, Plan>();
  #answerFor: MockUpstreamOptions["answerFor"];

  constructor(opts: MockUpstreamOptions) {
    this.#answerFor = opts.answerFor;
    this.#record = opts.record ?? true;
    this.#tool = opts.answer?.toolCall ?? null;
    this.#text = opts.answer?.text ?? (this.#tool ? null : DEFAULT_ANSWER_TEXT);
    this.#usage = opts.usage ?? DEFAULT_USAGE;
    this.#script = opts.script ?? null;
    this.#fullPlan = buildPlan(this.#text, this.#tool, this.#usage, null);
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      onError: (error) => {
        if (!(error instanceof CutError)) {
          console.error("mock upstream: unexpected error", error);
        }
        return Response.json(defaultErrorBody("openai", 500, "mock upstream crashed"), {
          status: 500,
        });
      },
    }, (req) => this.#handle(req));
    this.port = this.#server.addr.port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  get aborted(): number {
    return this.#aborted;
  }

  get lastSent(): LastSent | null {
    return this.#lastSent;
  }

  enqueue(...b: Behaviour[]): void {
    this.#queue.push(...b);
  }

  nextAbort(): Promise<void> {
    return new Promise((resolve) => this.#abortWaiters.push(resolve));
  }

  reset(): void {
    this.requests.length = 0;
    this.#queue.length = 0;
    this.#aborted = 0;
    this.#lastSent = null;
    this.#seq = 0;
    this.defaultBehaviour = { kind: "ok" };
  }

  close(): Promise<void> {
    if (this.#closed === null) {
      this.#closing.abort();
      this.#closed = this.#server.shutdown();
    }
    return this.#closed;
  }

  #recordAbort(): void {
    this.#aborted++;
    const waiters = this.#abortWaiters;
    this.#abortWaiters = [];
    for (const w of waiters) w();
  }

  /** The plan of `answerFor` when it chooses one for this request, else the scripted or canned one. */
  #planFor(
    body: Record<string, unknown>,
    route: Route,
    maxTokens: unknown,
    scripted: MockAnswer | null,
  ): Plan {
    const chosen = this.#answerFor?.(body, route);
    if (!chosen) return this.#plan(maxTokens, scripted);
    const tool = chosen.toolCall ?? null;
    return buildPlan(chosen.text ?? (tool ? null : DEFAULT_ANSWER_TEXT), tool, this.#usage, null);
  }

  #plan(maxTokens: unknown, scripted: MockAnswer | null = null): Plan {
    if (scripted !== null) {
      const tool = scripted.toolCall ?? null;
      const text = scripted.text ?? (tool ? null : DEFAULT_ANSWER_TEXT);
      const cut = typeof maxTokens === "number" && maxTokens < TRUNCATE_BELOW_MAX_TOKENS
        ? Math.max(1, Math.floor(maxTokens))
        : null;
      return buildPlan(cut === null ? text : text ?? "", tool, this.#usage, cut);
    }
    if (typeof maxTokens !== "number" || !(maxTokens < TRUNCATE_BELOW_MAX_TOKENS)) {
      return this.#fullPlan;
    }
    const keep = Math.max(1, Math.floor(maxTokens));
    let plan = this.#truncatedPlans.get(keep);
    if (plan === undefined) {
      plan = buildPlan(this.#text ?? "", this.#tool, this.#usage, keep);
      this.#truncatedPlans.set(keep, plan);
    }
    return plan;
  }

  async #handle(req: Request): Promise<Response> {
    const n = ++this.#seq;
    const url = new URL(req.url);
    const method = req.method;
    const rawBody = method === "GET" || method === "HEAD" ? "" : await req.text();
    let body: unknown = null;
    if (rawBody !== "") {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = null;
      }
    }
    const reqHeaders: Record<string, string> = {};
    for (const [k, v] of req.headers) reqHeaders[k] = v;
    if (this.#record) {
      this.requests.push({
        method,
        path: url.pathname,
        search: url.search,
        headers: reqHeaders,
        body,
        rawBody,
      });
    }

    const route = matchRoute(method, url.pathname);
    if (route === null) {
      return this.#deliver({
        kind: "json",
        status: 404,
        json: defaultErrorBody("openai", 404, `Invalid URL (${method} ${url.pathname})`),
        headers: this.#baseHeaders("openai", n, false),
      }, { kind: "ok" });
    }
    const family: Family = route === "messages" || route === "count_tokens"
      ? "anthropic"
      : route.startsWith("gemini")
      ? "gemini"
      : "openai";

    let behaviour: Behaviour;
    const override = reqHeaders[MOCK_BEHAVIOUR_HEADER];
    if (override !== undefined) {
      const parsed = parseBehaviour(override);
      if (parsed === null) {
        return this.#deliver({
          kind: "json",
          status: 400,
          json: defaultErrorBody(family, 400, `mock: invalid ${MOCK_BEHAVIOUR_HEADER} header`),
          headers: this.#baseHeaders(family, n, false),
        }, { kind: "ok" });
      }
      behaviour = parsed;
    } else {
      behaviour = this.#queue.shift() ?? this.defaultBehaviour;
    }

    switch (behaviour.kind) {
      case "hang": {
        const r = await wait(null, [req.signal, this.#closing.signal]);
        if (this.#closing.signal.aborted) {
          return Response.json(defaultErrorBody(family, 503, "mock upstream closing"), {
            status: 503,
          });
        }
        if (r === "aborted") this.#recordAbort();
        return new Response(null, { status: 499 });
      }
      case "delay": {
        const r = await wait(behaviour.ms, [req.signal, this.#closing.signal]);
        if (r === "aborted") {
          if (this.#closing.signal.aborted) {
            return Response.json(defaultErrorBody(family, 503, "mock upstream closing"), {
              status: 503,
            });
          }
          this.#recordAbort();
          return new Response(null, { status: 499 });
        }
        break;
      }
      case "error": {
        const headers = this.#baseHeaders(family, n, false);
        if (behaviour.headers) {
          for (const [k, v] of Object.entries(behaviour.headers)) headers[k.toLowerCase()] = v;
        }
        return this.#deliver({
          kind: "json",
          status: behaviour.status,
          json: behaviour.body ?? defaultErrorBody(family, behaviour.status),
          headers,
        }, { kind: "ok" });
      }
    }

    return this.#deliver(this.#answer(route, family, n, body, rawBody, url.pathname), behaviour);
  }

  #geminiAnswer(
    route: Route,
    n: number,
    body: Record<string, unknown>,
    rawBody: string,
    path: string,
  ): Rendered {
    if (route === "gemini_count") {
      return {
        kind: "json",
        status: 200,
        json: { totalTokens: Math.max(1, Math.ceil(rawBody.length / 4)) },
        headers: this.#baseHeaders("gemini", n, false),
      };
    }
    const gen = isRecord(body.generationConfig) ? body.generationConfig : {};
    const model = /\/models\/([^/:]+):/.exec(path)?.[1] ?? DEFAULT_MODEL;
    const ctx: Ctx = {
      n,
      model,
      created: Math.floor(Date.now() / 1000),
      body,
      plan: this.#plan(
        gen.maxOutputTokens,
        this.#script?.({ protocol: "gemini", path, body }) ?? null,
      ),
    };
    if (route === "gemini_stream") {
      return {
        kind: "sse",
        events: geminiEvents(ctx),
        headers: this.#baseHeaders("gemini", n, true),
      };
    }
    return {
      kind: "json",
      status: 200,
      json: geminiJson(ctx),
      headers: this.#baseHeaders("gemini", n, false),
    };
  }

  #baseHeaders(family: Family, n: number, sse: boolean): Record<string, string> {
    const contentType = sse ? "text/event-stream; charset=utf-8" : "application/json";
    if (family === "gemini") {
      return {
        "content-type": sse ? "text/event-stream" : "application/json; charset=UTF-8",
        "server-timing": "gfet4t7; dur=1",
      };
    }
    return family === "anthropic"
      ? {
        "content-type": contentType,
        "request-id": `req_mock_${n}`,
        "anthropic-ratelimit-requests-remaining": "99",
        ...(sse ? { "cache-control": "no-cache" } : {}),
      }
      : {
        "content-type": contentType,
        "x-request-id": `req_mock_${n}`,
        "x-ratelimit-remaining-requests": "99",
        "openai-processing-ms": "1",
        ...(sse ? { "cache-control": "no-cache" } : {}),
      };
  }

  #answer(
    route: Route,
    family: Family,
    n: number,
    body: unknown,
    rawBody: string,
    path = "",
  ): Rendered {
    if (route === "models") {
      return {
        kind: "json",
        status: 200,
        json: {
          object: "list",
          data: [{ id: DEFAULT_MODEL, object: "model", created: 1700000000, owned_by: "mock" }],
        },
        headers: this.#baseHeaders(family, n, false),
      };
    }
    if (!isRecord(body)) {
      return {
        kind: "json",
        status: 400,
        json: defaultErrorBody(family, 400, "We could not parse the JSON body of your request."),
        headers: this.#baseHeaders(family, n, false),
      };
    }
    if (route === "count_tokens") {
      return {
        kind: "json",
        status: 200,
        json: { input_tokens: Math.max(1, Math.ceil(rawBody.length / 4)) },
        headers: this.#baseHeaders(family, n, false),
      };
    }
    if (family === "gemini") return this.#geminiAnswer(route, n, body, rawBody, path);
    const maxTokens = route === "chat"
      ? body.max_completion_tokens ?? body.max_tokens
      : route === "responses"
      ? body.max_output_tokens
      : body.max_tokens;
    const ctx: Ctx = {
      n,
      model: typeof body.model === "string" ? body.model : DEFAULT_MODEL,
      created: Math.floor(Date.now() / 1000),
      body,
      plan: this.#planFor(
        body,
        route,
        maxTokens,
        this.#script?.({
          protocol: route === "chat"
            ? "openai_chat"
            : route === "messages"
            ? "anthropic"
            : "openai_responses",
          path,
          body,
        }) ?? null,
      ),
    };
    const stream = body.stream === true;
    const headers = this.#baseHeaders(family, n, stream);
    if (stream) {
      const events = route === "chat"
        ? chatEvents(ctx)
        : route === "messages"
        ? messagesEvents(ctx)
        : responsesEvents(ctx);
      return { kind: "sse", events, headers };
    }
    const json = route === "chat"
      ? chatJson(ctx)
      : route === "messages"
      ? messagesJson(ctx)
      : responsesJson(ctx);
    return { kind: "json", status: 200, json, headers };
  }

  #deliver(r: Rendered, behaviour: Behaviour): Response {
    if (r.kind === "json") {
      const text = typeof r.json === "string" ? r.json : JSON.stringify(r.json);
      if (behaviour.kind === "cut") {
        const half = text.slice(0, Math.floor(text.length / 2));
        this.#lastSent = { raw: half, status: r.status, headers: r.headers };
        return new Response(this.#pulledStream([encoder.encode(half)], 0, 1), {
          status: r.status,
          headers: r.headers,
        });
      }
      this.#lastSent = { json: r.json, raw: text, status: r.status, headers: r.headers };
      return new Response(text, { status: r.status, headers: r.headers });
    }

    const chunks = r.events.map(encodeEvent);
    if (behaviour.kind === "cut") {
      const after = Math.min(Math.floor(behaviour.afterEvents), chunks.length);
      this.#lastSent = { sse: r.events.slice(0, after), status: 200, headers: r.headers };
      return new Response(this.#pulledStream(chunks.slice(0, after), 0, after), {
        headers: r.headers,
      });
    }
    this.#lastSent = { sse: r.events, status: 200, headers: r.headers };
    if (behaviour.kind === "slow_stream") {
      return new Response(this.#pulledStream(chunks, behaviour.eventDelayMs, null), {
        headers: r.headers,
      });
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
      // Only reachable while queued chunks remain unread: the client went away mid-stream.
      cancel: () => this.#recordAbort(),
    });
    return new Response(body, { headers: r.headers });
  }

  /**
   * A stream sending `chunks` one per read, waiting `delayMs` between them; when `cutAfter` is a
   * number, the connection is dropped (stream errored) once that many chunks were sent.
   */
  #pulledStream(
    chunks: Uint8Array[],
    delayMs: number,
    cutAfter: number | null,
  ): ReadableStream<Uint8Array> {
    let i = 0;
    let finished = false;
    const cancelled = new AbortController();
    const closing = this.#closing.signal;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (cutAfter !== null && i >= cutAfter) {
          finished = true;
          await wait(CUT_FLUSH_MS, [cancelled.signal]);
          if (!cancelled.signal.aborted) controller.error(new CutError());
          return;
        }
        if (i > 0 && delayMs > 0) {
          await wait(delayMs, [cancelled.signal, closing]);
          if (cancelled.signal.aborted) return;
          if (closing.aborted) {
            finished = true;
            controller.error(new CutError("mock upstream closing"));
            return;
          }
        }
        controller.enqueue(chunks[i++]);
        if (cutAfter === null && i >= chunks.length) {
          finished = true;
          controller.close();
        }
      },
      cancel: () => {
        cancelled.abort();
        if (!finished) this.#recordAbort();
      },
    }, { highWaterMark: 0 });
  }
}

/**
 * Start a mock LLM provider on 127.0.0.1 (ephemeral port).
 *
 * @example
 * ```ts
 * const upstream = await startMockUpstream({ answer: { text: "Hi there, friend" } });
 * const res = await fetch(`${upstream.url}/v1/chat/completions`, {
 *   method: "POST",
 *   body: JSON.stringify({ model: "gpt-4o", messages: [] }),
 * });
 * await res.json();
 * await upstream.close();
 * ```
 */
export function startMockUpstream(opts: MockUpstreamOptions = {}): Promise<MockUpstream> {
  return Promise.resolve(new MockUpstreamServer(opts));
}
