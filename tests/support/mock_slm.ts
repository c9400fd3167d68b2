/**
 * A mock OpenAI-compatible small-model server on 127.0.0.1 (what llama.cpp
 * server, vLLM or Ollama look like to L2): a one-token request with
 * `logprobs` gets the classifier's label with its probability; any other
 * request streams the answer a few characters per chunk.
 *
 * @module
 */

/** How the mock answers; change the fields between requests. */
export interface MockSlmBehaviour {
  /** The label token the classifier gets ("1" = SIMPLE). */
  label: string;
  /** Its probability. */
  probability: number;
  /** Send no logprobs at all (a server without them). */
  noLogprobs: boolean;
  /** The answer text, streamed in pieces of `pieceChars`. */
  answer: string;
  pieceChars: number;
  /** `finish_reason` of the answer. */
  finish: "stop" | "length";
  /** Delay before each chunk, in ms. */
  delayMs: number;
  /** Answer every request with this HTTP status instead (e.g. 500). */
  status: number;
}

/** A running mock. */
export interface MockSlm {
  url: string;
  behaviour: MockSlmBehaviour;
  /** Request bodies received, in order. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts the mock on an ephemeral loopback port. */
export function startMockSlm(init: Partial<MockSlmBehaviour> = {}): Promise<MockSlm> {
  const behaviour: MockSlmBehaviour = {
    label: "1",
    probability: 0.97,
    noLogprobs: false,
    answer: "The capital of France is Paris.",
    pieceChars: 4,
    finish: "stop",
    delayMs: 0,
    status: 200,
    ...init,
  };
  const requests: Record<string, unknown>[] = [];
  const ac = new AbortController();
  const enc = new TextEncoder();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: ({ port }) =>
        resolve({
          url: `http://127.0.0.1:${port}`,
          behaviour,
          requests,
          close: async () => {
            ac.abort();
            await server.finished;
          },
        }),
    }, async (req) => {
      if (!new URL(req.url).pathname.endsWith("/v1/chat/completions")) {
        return new Response("not found", { status: 404 });
      }
      const body = await req.json();
      requests.push(body);
      const b = { ...behaviour };
      if (b.status !== 200) return new Response("model server failure", { status: b.status });
      const chunks: unknown[] = [];
      const chunk = (delta: unknown, extra: Record<string, unknown> = {}) => ({
        id: "chatcmpl-mock",
        object: "chat.completion.chunk",
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: null, ...extra }],
      });
      if (body.max_tokens === 1 && body.logprobs) {
        const top = [
          { token: b.label, logprob: Math.log(b.probability) },
          { token: b.label === "1" ? "2" : "1", logprob: Math.log(1 - b.probability + 1e-9) },
        ];
        chunks.push(chunk({ content: b.label }, {
          logprobs: b.noLogprobs
            ? null
            : { content: [{ token: b.label, logprob: top[0].logprob, top_logprobs: top }] },
        }));
        chunks.push(chunk({}, { finish_reason: "length" }));
      } else {
        for (let i = 0; i < b.answer.length; i += b.pieceChars) {
          chunks.push(chunk({ content: b.answer.slice(i, i + b.pieceChars) }));
        }
        chunks.push(chunk({}, { finish_reason: b.finish }));
      }
      chunks.push({
        id: "chatcmpl-mock",
        object: "chat.completion.chunk",
        choices: [],
        usage: { prompt_tokens: 12, completion_tokens: Math.ceil(b.answer.length / 4) },
      });
      const stream = new ReadableStream<Uint8Array>({
        async start(out) {
          try {
            for (const c of chunks) {
              if (b.delayMs) await sleep(b.delayMs);
              out.enqueue(enc.encode(`data: ${JSON.stringify(c)}\n\n`));
            }
            out.enqueue(enc.encode("data: [DONE]\n\n"));
            out.close();
          } catch { /* the client went away */ }
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    });
  });
}

/** Gateway config for L2 tests: L3 on `upstreamUrl` (an OpenAI-style mock), L2 on, plus `extra`. */
export function l2Config(
  upstreamUrl: string,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    llm_provider: "openai",
    external_llm_url: `${upstreamUrl}/v1`,
    external_llm_api_key: "sk-test",
    enable_slm_router: true,
    ...extra,
  };
}
