/**
 * Protocol-neutral answer events: the vocabulary of a recording.
 *
 * Every wire protocol decodes its upstream answer (JSON or SSE) into these
 * events and encodes them back, so one recording can be replayed as JSON or as
 * a stream, in any protocol. Order matters: events are kept exactly as the
 * upstream produced them.
 *
 * @module
 */

/** Why the model stopped, in Anthropic's vocabulary (the richest of the three). */
export type StopReason =
  | "end_turn"
  | "max_tokens"
  | "tool_use"
  | "stop_sequence"
  | "content_filter"
  | "refusal"
  | "pause_turn";

/** Token counts as the upstream reported them. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens the provider served from its own prompt cache. */
  cacheReadTokens?: number;
  /** Prompt tokens written to the provider's prompt cache (Anthropic). */
  cacheWriteTokens?: number;
}

/** One event of an answer. */
export type AnswerEvent =
  /** Opens the answer: the upstream's message id and the model that answered. */
  | { type: "start"; id: string; model: string; created?: number }
  /** A piece of assistant text. */
  | { type: "text"; text: string }
  /** A piece of reasoning/thinking text (Anthropic thinking, OpenAI reasoning_content). */
  | { type: "reasoning"; text: string; signature?: string }
  /** Opens tool call number `index` (0-based within the answer). */
  | { type: "tool_call"; index: number; id: string; name: string }
  /** A piece of the JSON arguments of tool call number `index`. */
  | { type: "tool_args"; index: number; delta: string }
  /** Token usage; may come more than once (Anthropic sends input then output), later values win per field. */
  | { type: "usage"; usage: Partial<Usage> }
  /**
   * The terminal event. `unfinished` marks a native reason that does not mean
   * a finished answer (null, missing, unknown, `"error"`): such an answer is
   * relayed but never cached (see {@link FINISHED_STOP_REASONS}).
   */
  | { type: "stop"; reason: StopReason; stopSequence?: string | null; unfinished?: true };

/**
 * The native stop reasons that mean a finished answer, in every protocol: the
 * only answers the caches store (docs/cache-key.md, "What is cached").
 * OpenAI chat `finish_reason`; Anthropic `stop_reason`; the Responses API's
 * `status` (`completed`, or `incomplete` for `max_output_tokens`); Gemini's
 * `finishReason`.
 */
export const FINISHED_STOP_REASONS: ReadonlySet<string> = new Set([
  "stop",
  "length",
  "tool_calls",
  "function_call",
  "end_turn",
  "max_tokens",
  "tool_use",
  "stop_sequence",
  "completed",
  "max_output_tokens",
  "STOP",
  "MAX_TOKENS",
]);

/** The `unfinished` flag of a stop event, from the provider's native reason. */
export function unfinishedFlag(native: string | null | undefined): { unfinished?: true } {
  return native && FINISHED_STOP_REASONS.has(native) ? {} : { unfinished: true };
}

/** The wire protocols a client can speak (plus the native `{prompt}` API, served as OpenAI chat). */
export type WireProtocol = "openai_chat" | "openai_responses" | "anthropic" | "gemini";

/** One server-sent event as it appears on the wire. */
export interface SseEvent {
  /** The `event:` field, when present (Anthropic and Responses use it; OpenAI chat does not). */
  event?: string;
  /** The `data:` payload, verbatim (multi-line data joined with "\n"). */
  data: string;
}
