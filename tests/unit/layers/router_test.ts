import assert from "node:assert/strict";
import { RouterLayer } from "../../../src/layers/router.ts";
import { GenerationQueue } from "../../../src/slm/queue.ts";
import type { SlmBackend, SlmChunk, SlmRequest } from "../../../src/slm/backend.ts";
import type { Answer, ChatRequest, RequestContext } from "../../../src/pipeline/types.ts";
import { Metrics } from "../../../src/telemetry/metrics.ts";

/** A backend whose answers wait until `open()` is called. */
function gatedBackend() {
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  const calls: SlmRequest[] = [];
  const backend: SlmBackend = {
    kind: "embedded",
    model: "fake",
    async *generate(req): AsyncGenerator<SlmChunk> {
      calls.push(req);
      if (req.maxTokens === 1) {
        yield { type: "text", text: "1", top: [{ token: "1", logprob: -0.01 }] };
      } else {
        await gate;
        yield { type: "text", text: "Paris." };
      }
      yield { type: "done", finish: "stop", inputTokens: 3, outputTokens: 1 };
    },
    close: () => Promise.resolve(),
  };
  return { backend, calls, open: () => open() };
}

function request(): ChatRequest {
  const body = { model: "m", messages: [{ role: "user", content: "Capital of France?" }] };
  return {
    protocol: "openai_chat",
    body,
    raw: new TextEncoder().encode(JSON.stringify(body)),
    model: "m",
    stream: false,
    headers: new Headers(),
    signal: new AbortController().signal,
  };
}

const ctx: RequestContext = {
  requestId: "r1",
  startedAt: 0,
  tenant: "t",
  clientCredential: null,
};

const cloud = (): Promise<Answer> =>
  Promise.resolve({
    layer: "l3",
    status: 200,
    headers: {},
    protocol: "openai_chat",
    body: { kind: "events", events: [] },
  });

Deno.test("router: one generation at a time; a full queue passes to L3 as busy", async () => {
  const { backend, open } = gatedBackend();
  const metrics = new Metrics();
  const layer = new RouterLayer(backend, new GenerationQueue(1, 0), {
    mode: "binary",
    minConfidence: 0.8,
    timeoutMs: 10_000,
    maxAnswerTokens: 32,
    cacheAnswers: false,
  }, metrics);
  const first = layer.handle(request(), ctx, cloud);
  // Let the first request take the slot and start its answer.
  await new Promise((r) => setTimeout(r, 0));
  const second = await layer.handle(request(), ctx, cloud);
  assert.equal(second.layer, "l3");
  assert.match(metrics.render(), /isartor_l2_decisions_total\{outcome="busy"\} 1/);
  open();
  const answer = await first;
  assert.equal(answer.layer, "l2");
  assert.equal(answer.cacheable, false);
  // The slot is held until the answer's stream ends.
  assert.deepEqual(layer.queue.load, { running: 1, waiting: 0 });
  assert.ok(answer.body.kind === "sse");
  const text = await new Response(answer.body.stream).text();
  assert.match(text, /Paris\./);
  assert.match(text, /event: message_stop/);
  assert.deepEqual(layer.queue.load, { running: 0, waiting: 0 });
});

Deno.test("router: a queue with room waits for the slot instead", async () => {
  const q = new GenerationQueue(1, 1);
  const signal = new AbortController().signal;
  const a = await q.acquire(signal);
  const waiting = q.acquire(signal);
  assert.equal(await q.acquire(signal), null);
  a!();
  const b = await waiting;
  assert.ok(b);
  b();
  assert.deepEqual(q.load, { running: 0, waiting: 0 });
});
