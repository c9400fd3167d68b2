/**
 * The simulated provider of `isartor demo`: a tiny OpenAI-compatible server
 * on 127.0.0.1 that answers every chat request with deterministic canned text
 * marked `[simulated]`, after a fixed delay that stands in for a cloud call.
 * No model runs and nothing leaves the machine.
 *
 * @module
 */

/** The marker every simulated answer starts with. */
export const SIMULATED_MARK = "[simulated]";

/** A running simulated provider. */
export interface SimulatedUpstream {
  /** Base URL, e.g. `http://127.0.0.1:41234/v1`. */
  url: string;
  /** How many chat requests reached it (the ones no cache answered). */
  readonly calls: number;
  close(): Promise<void>;
}

/** Rough token count: about four characters per token. */
export function roughTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown };
    if (m?.role === "user") {
      return typeof m.content === "string" ? m.content : JSON.stringify(m.content);
    }
  }
  return "";
}

/** The canned answer to a prompt: always the same for the same prompt. */
export function simulatedAnswer(prompt: string): string {
  const topic = prompt.length > 70 ? `${prompt.slice(0, 67)}...` : prompt;
  return `${SIMULATED_MARK} A canned answer to "${topic}". No model was called: ` +
    "this text comes from isartor's built-in simulated provider, so the demo works offline and free.";
}

/**
 * Starts the simulated provider.
 *
 * @example
 * ```ts
 * const sim = await startSimulatedUpstream({ latencyMs: 0 });
 * const res = await fetch(`${sim.url}/chat/completions`, {
 *   method: "POST",
 *   body: JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] }),
 * });
 * (await res.json()).choices[0].message.content; // "[simulated] A canned answer to ..."
 * await sim.close();
 * ```
 */
export function startSimulatedUpstream(
  options: { latencyMs?: number } = {},
): Promise<SimulatedUpstream> {
  const latencyMs = options.latencyMs ?? 300;
  let calls = 0;
  let n = 0;
  const closing = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path.endsWith("/models")) {
      return Response.json({ object: "list", data: [{ id: "demo-model", object: "model" }] });
    }
    if (req.method !== "POST" || !path.endsWith("/chat/completions")) {
      return Response.json({ error: { message: "not found", type: "invalid_request_error" } }, {
        status: 404,
      });
    }
    let body: { model?: unknown; messages?: unknown; stream?: unknown };
    try {
      body = await req.json();
    } catch {
      return Response.json({ error: { message: "bad JSON", type: "invalid_request_error" } }, {
        status: 400,
      });
    }
    calls++;
    if (latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, latencyMs);
        closing.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
    const text = simulatedAnswer(lastUserText(body.messages));
    const model = typeof body.model === "string" ? body.model : "demo-model";
    const usage = {
      prompt_tokens: roughTokens(JSON.stringify(body.messages ?? "")),
      completion_tokens: roughTokens(text),
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = `chatcmpl-sim-${++n}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream === true) {
      const chunk = (choices: unknown[], extra = {}) =>
        `data: ${
          JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra })
        }\n\n`;
      const choice = (delta: unknown, finish: string | null) =>
        chunk([{ index: 0, delta, finish_reason: finish }]);
      const sse = choice({ role: "assistant", content: text }, null) + choice({}, "stop") +
        chunk([], { usage }) + "data: [DONE]\n\n";
      return new Response(sse, { headers: { "content-type": "text/event-stream" } });
    }
    return Response.json({
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: text },
        finish_reason: "stop",
      }],
      usage,
    });
  });
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    get calls() {
      return calls;
    },
    async close() {
      closing.abort();
      await server.shutdown();
    },
  });
}
