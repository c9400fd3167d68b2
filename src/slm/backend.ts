/**
 * The small model behind L2, as one narrow interface: an OpenAI-style chat
 * completion that streams its pieces. Two implementations: in-process wllama
 * (./embedded.ts) and any OpenAI-compatible server (./remote.ts).
 *
 * @module
 */

/** A chat message for the small model (text only: L2 never sees anything else). */
export interface SlmMessage {
  role: "system" | "user";
  content: string;
}

/** One generation request. */
export interface SlmRequest {
  messages: SlmMessage[];
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** Ask for the top log-probabilities of each generated token (the classifier does). */
  topLogprobs?: number;
  signal: AbortSignal;
}

/** A candidate token and its log-probability. */
export interface TokenLogprob {
  token: string;
  logprob: number;
}

/** One piece of a generation. */
export type SlmChunk =
  /** Generated text; `top` holds the candidates of its (first) token when asked for. */
  | { type: "text"; text: string; top?: TokenLogprob[] }
  /** The end: why it stopped, and the token counts. */
  | {
    type: "done";
    finish: "stop" | "length" | "other";
    inputTokens: number;
    outputTokens: number;
  };

/** A small model. */
export interface SlmBackend {
  /** "embedded" or "remote". */
  readonly kind: "embedded" | "remote";
  /** The model named in answers (`model` of the response). */
  readonly model: string;
  /** Streams a generation. Throws on errors; honours `signal`. */
  generate(req: SlmRequest): AsyncIterable<SlmChunk>;
  /** Releases the model. */
  close(): Promise<void>;
}

/** A backend failure that L2 turns into a pass to L3. */
export class SlmError extends Error {
  override name = "SlmError";
}
