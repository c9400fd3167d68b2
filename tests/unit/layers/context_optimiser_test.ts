// L2.5 as a layer: hands L3 a rewritten request, or the client's own; header, opt-out.
import assert from "node:assert/strict";
import { ContextOptimiserLayer, OPTIMIZED_HEADER } from "../../../src/layers/context_optimiser.ts";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import type {
  Answer,
  ChatRequest,
  Layer,
  LayerSpan,
  RequestContext,
} from "../../../src/pipeline/types.ts";

const encoder = new TextEncoder();

function request(body: Record<string, unknown>, headers: Record<string, string> = {}): ChatRequest {
  const raw = encoder.encode(JSON.stringify(body, null, 2));
  return {
    protocol: "openai_chat",
    body,
    raw,
    model: "gpt",
    stream: false,
    headers: new Headers(headers),
    signal: new AbortController().signal,
  };
}

/** The last layer: records what it was handed. */
function cloud(seen: ChatRequest[]): Layer {
  return {
    name: "l3",
    handle(req) {
      seen.push(req);
      return Promise.resolve<Answer>({
        layer: "l3",
        status: 200,
        headers: {},
        protocol: "openai_chat",
        body: { kind: "json", bytes: encoder.encode("{}") },
        layerHeaders: { "x-other": "1" },
      });
    },
  };
}

const spans: string[] = [];
const ctx: RequestContext = {
  requestId: "r",
  startedAt: 0,
  tenant: "t",
  clientCredential: null,
  trace: {
    layer(name: string): LayerSpan {
      spans.push(name);
      return { passed() {}, answered() {}, failed() {} };
    },
    attempt() {
      throw new Error("unused");
    },
  },
};

const NOISY = { messages: [{ role: "system", content: "Be brief.   \n\n\n\nOK." }] };

Deno.test("context optimiser: L3 gets the rewritten body and bytes; the answer says what it saved", async () => {
  const seen: ChatRequest[] = [];
  const layer = new ContextOptimiserLayer({ minify: true, dedup: true });
  const req = request(NOISY);
  spans.length = 0;
  const answer = await new Pipeline([layer, cloud(seen)]).run(req, ctx);
  assert.deepEqual(seen[0].body, { messages: [{ role: "system", content: "Be brief.\n\nOK." }] });
  assert.equal(new TextDecoder().decode(seen[0].raw), JSON.stringify(seen[0].body));
  // The client's request is untouched; the rest of it is the same.
  assert.deepEqual(req.body, NOISY);
  assert.equal(seen[0].headers, req.headers);
  const saved = Number(answer.layerHeaders?.[OPTIMIZED_HEADER]);
  assert.ok(saved > 0, `saved ${saved}`);
  assert.equal(answer.layerHeaders?.["x-other"], "1");
  assert.deepEqual(spans, ["context_optimise"]);
});

Deno.test("context optimiser: nothing to change or x-isartor-optimize: off passes the client's own request", async () => {
  const seen: ChatRequest[] = [];
  const layer = new ContextOptimiserLayer({ minify: true, dedup: true });
  const pipeline = new Pipeline([layer, cloud(seen)]);
  const clean = request({ messages: [{ role: "system", content: "Be brief." }] });
  const off = request(NOISY, { "x-isartor-optimize": "Off" });
  for (const req of [clean, off]) {
    const answer = await pipeline.run(req, ctx);
    assert.equal(seen.at(-1), req);
    assert.equal(answer.layerHeaders?.[OPTIMIZED_HEADER], undefined);
  }
});
