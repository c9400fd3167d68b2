import assert from "node:assert/strict";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import type { Answer, ChatRequest, Layer, RequestContext } from "../../../src/pipeline/types.ts";

const ANSWER: Answer = {
  layer: "l3",
  status: 200,
  headers: {},
  protocol: "openai_chat",
  body: { kind: "events", events: [] },
};
const REQ = {} as ChatRequest;

function ctx(): RequestContext & { spans: string[] } {
  const spans: string[] = [];
  return {
    requestId: "r",
    startedAt: 0,
    tenant: "t",
    clientCredential: null,
    spans,
    trace: {
      layer: (name) => ({
        passed: () => spans.push(`${name}:pass`),
        answered: (s) => spans.push(`${name}:answered ${s}`),
        failed: () => spans.push(`${name}:error`),
      }),
      attempt: () => ({ traceparent: "", end: () => {} }),
    },
  };
}

Deno.test("pipeline: a layer that calls next() twice is refused (it would be a second upstream call)", async () => {
  let calls = 0;
  const greedy: Layer = {
    name: "l1a",
    async handle(_r, _c, next) {
      await next();
      return next();
    },
  };
  const last: Layer = {
    name: "l3",
    handle: () => {
      calls++;
      return Promise.resolve(ANSWER);
    },
  };
  await assert.rejects(new Pipeline([greedy, last]).run(REQ, ctx()), /called next\(\) twice/);
  assert.equal(calls, 1);
});

Deno.test("pipeline: each layer with a span name traces whether it passed or answered", async () => {
  const c = ctx();
  const passes: Layer = { name: "l1a", spanName: "l1a_exact_cache", handle: (_r, _c, n) => n() };
  const answers: Layer = {
    name: "l1b",
    spanName: "l1b_semantic_cache",
    handle: () => Promise.resolve({ ...ANSWER, layer: "l1b" }),
  };
  await new Pipeline([passes, answers]).run(REQ, c);
  assert.deepEqual(c.spans, ["l1a_exact_cache:pass", "l1b_semantic_cache:answered 200"]);
});

Deno.test("pipeline: the timer hears each layer's own turn, L3 too (it has no span name)", async () => {
  const heard: string[] = [];
  const passes: Layer = { name: "l1a", spanName: "l1a_exact_cache", handle: (_r, _c, n) => n() };
  const answers: Layer = { name: "l3", handle: () => Promise.resolve(ANSWER) };
  const failing: Layer = { name: "l1b", handle: () => Promise.reject(new Error("boom")) };
  const timer = (layer: string, outcome: string, seconds: number) => {
    assert.ok(seconds >= 0);
    heard.push(`${layer}:${outcome}`);
  };
  await new Pipeline([passes, answers], timer).run(REQ, ctx());
  await assert.rejects(new Pipeline([passes, failing], timer).run(REQ, ctx()), /boom/);
  assert.deepEqual(heard, ["l1a:passed", "l3:answered", "l1a:passed", "l1b:error"]);
});
