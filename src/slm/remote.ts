/**
 * The remote small model: any OpenAI-compatible server (llama.cpp server,
 * vLLM, TGI, Ollama) at `vllm_url`, with or without `/v1`, called on
 * `/v1/chat/completions` with `stream: true`.
 *
 * @module
 */

import { SseParser } from "../protocol/sse.ts";
import { type SlmBackend, type SlmChunk, SlmError, type SlmRequest } from "./backend.ts";

/** Options of {@linkcode RemoteSlm}. */
export interface RemoteSlmOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8000` or `http://127.0.0.1:8000/v1`. */
  url: string;
  /** The model name the server expects. */
  model: string;
  fetch?: typeof fetch;
}

/**
 * The chat-completions URL of a base URL given with or without `/v1`.
 *
 * @example
 * ```ts
 * chatCompletionsUrl("http://127.0.0.1:8000/v1/"); // "http://127.0.0.1:8000/v1/chat/completions"
 * chatCompletionsUrl("http://127.0.0.1:8000"); // "http://127.0.0.1:8000/v1/chat/completions"
 * ```
 */
export function chatCompletionsUrl(base: string): string {
  const trimmed = base.replace(/\/+$/, "");
  return `${trimmed.endsWith("/v1") ? trimmed : `${trimmed}/v1`}/chat/completions`;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null;

/** An OpenAI-compatible model server. */
export class RemoteSlm implements SlmBackend {
  readonly kind = "remote";
  readonly model: string;
  readonly #url: string;
  readonly #fetch: typeof fetch;

  constructor(options: RemoteSlmOptions) {
    this.model = options.model;
    this.#url = chatCompletionsUrl(options.url);
    this.#fetch = options.fetch ?? fetch;
  }

  async *generate(req: SlmRequest): AsyncGenerator<SlmChunk> {
    const body: Json = {
      model: this.model,
      messages: req.messages,
      max_tokens: req.maxTokens,
      temperature: req.temperature,
      stream: true,
      stream_options: { include_usage: true },
    };
    if (req.topLogprobs) Object.assign(body, { logprobs: true, top_logprobs: req.topLogprobs });
    let res: Response;
    try {
      res = await this.#fetch(this.#url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify(body),
        signal: req.signal,
      });
    } catch (e) {
      throw new SlmError(`cannot reach the router model at ${this.#url}: ${(e as Error).message}`);
    }
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => "");
      throw new SlmError(`the router model answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    const parser = new SseParser();
    const decoder = new TextDecoder();
    let finish: "stop" | "length" | "other" | null = null;
    let inputTokens = 0;
    let outputTokens = 0;
    let pieces = 0;
    const reader = res.body.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        const events = done ? parser.flush() : parser.push(decoder.decode(value, { stream: true }));
        for (const ev of events) {
          if (ev.data.trim() === "[DONE]") continue;
          let chunk: unknown;
          try {
            chunk = JSON.parse(ev.data);
          } catch {
            throw new SlmError("the router model sent a stream chunk that is not JSON");
          }
          if (!isObject(chunk)) continue;
          if (isObject(chunk.error)) {
            throw new SlmError(`the router model failed: ${String(chunk.error.message ?? "")}`);
          }
          if (isObject(chunk.usage)) {
            inputTokens = Number(chunk.usage.prompt_tokens) || 0;
            outputTokens = Number(chunk.usage.completion_tokens) || 0;
          }
          const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
          if (!isObject(choice)) continue;
          const delta = isObject(choice.delta) ? choice.delta : {};
          const text = typeof delta.content === "string" ? delta.content : "";
          if (text) {
            pieces++;
            yield { type: "text", text, top: topOf(choice.logprobs) };
          }
          if (typeof choice.finish_reason === "string") {
            finish = choice.finish_reason === "stop"
              ? "stop"
              : choice.finish_reason === "length"
              ? "length"
              : "other";
          }
        }
        if (done) break;
      }
    } finally {
      reader.releaseLock();
      await res.body.cancel().catch(() => {});
    }
    if (finish === null) throw new SlmError("the router model's stream ended without a finish");
    yield { type: "done", finish, inputTokens, outputTokens: outputTokens || pieces };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The top candidates of a chunk's first token (OpenAI `logprobs.content[0].top_logprobs`). */
export function topOf(logprobs: unknown): { token: string; logprob: number }[] | undefined {
  if (!isObject(logprobs) || !Array.isArray(logprobs.content)) return undefined;
  const first = logprobs.content[0];
  if (!isObject(first) || !Array.isArray(first.top_logprobs)) return undefined;
  return first.top_logprobs.flatMap((t) =>
    isObject(t) && typeof t.token === "string" && typeof t.logprob === "number"
      ? [{ token: t.token, logprob: t.logprob }]
      : []
  );
}
