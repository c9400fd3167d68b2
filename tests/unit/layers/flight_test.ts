// Single-flight after a failed leader: identical waiters share the leader's outcome instead of
// each calling the provider with full retries (issue 11, item 5).
import assert from "node:assert/strict";
import { ExactCacheLayer } from "../../../src/layers/exact_cache.ts";
import { buildRecordingCache } from "../../../src/cache/build.ts";
import { parseConfig } from "../../../src/config/load.ts";
import { GatewayError } from "../../../src/http/errors.ts";
import { Metrics } from "../../../src/telemetry/metrics.ts";
import type { Answer, ChatRequest, RequestContext } from "../../../src/pipeline/types.ts";

const BODY = { model: "m", messages: [{ role: "user", content: "same question" }] };

function layer() {
  const config = parseConfig({ cache_backend: "memory", cache_mode: "exact" });
  const metrics = new Metrics();
  return new ExactCacheLayer(buildRecordingCache(config, metrics, null), {
    provider: "p@http://127.0.0.1:1",
    upstreamModel: (_p, m) => m,
    cacheSampled: true,
  }, metrics);
}

function request(signal = new AbortController().signal): ChatRequest {
  const raw = new TextEncoder().encode(JSON.stringify(BODY));
  return {
    protocol: "openai_chat",
    body: BODY,
    raw,
    model: "m",
    stream: false,
    headers: new Headers(),
    signal,
  };
}

const CTX: RequestContext = {
  requestId: "r",
  startedAt: 0,
  tenant: "t",
  clientCredential: null,
};

/** A provider call that fails once `release` is called; counts calls. */
function gatedNext(fail: () => Promise<Answer>) {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return {
    next: async () => {
      calls++;
      await gate;
      return await fail();
    },
    get calls() {
      return calls;
    },
    release,
  };
}

const N = 500;

Deno.test("flight: 500 identical requests after a leader that raised get its error, one upstream call", async () => {
  const l1a = layer();
  const up = gatedNext(() => {
    throw new GatewayError(502, "upstream_unreachable", "cannot reach p");
  });
  const all = Array.from({ length: N }, () => l1a.handle(request(), CTX, up.next));
  await new Promise((r) => setTimeout(r, 0));
  up.release();
  const results = await Promise.allSettled(all);
  assert.equal(up.calls, 1, `upstream calls: ${up.calls}`);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.equal((r as PromiseRejectedResult).reason.status, 502);
  }
  assert.equal(l1a.counters.coalesced, N - 1);
});

Deno.test("flight: waiters of a provider error answer get the same answer, one upstream call", async () => {
  const l1a = layer();
  const bytes = new TextEncoder().encode('{"error":{"message":"overloaded"}}');
  const up = gatedNext(() =>
    Promise.resolve(
      {
        layer: "l3",
        status: 503,
        headers: {},
        protocol: "openai_chat",
        body: { kind: "json", bytes },
      } satisfies Answer,
    )
  );
  const all = Array.from({ length: N }, () => l1a.handle(request(), CTX, up.next));
  await new Promise((r) => setTimeout(r, 0));
  up.release();
  const answers = await Promise.all(all);
  assert.equal(up.calls, 1);
  assert.ok(answers.every((a) => a.status === 503));
});

Deno.test("flight: after an answer that cannot be recorded, one waiter leads at a time", async () => {
  const l1a = layer();
  let inFlight = 0;
  let most = 0;
  let calls = 0;
  const next = async (): Promise<Answer> => {
    calls++;
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 0));
    inFlight--;
    // finish_reason null: an incomplete answer, never recorded.
    const json = '{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"par"},' +
      '"finish_reason":null}]}';
    return {
      layer: "l3",
      status: 200,
      headers: {},
      protocol: "openai_chat",
      body: { kind: "json", bytes: new TextEncoder().encode(json) },
    };
  };
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => l1a.handle(request(), CTX, next)),
  );
  assert.equal(answers.length, 20);
  assert.equal(most, 1, "never two identical upstream calls at once");
  assert.equal(calls, 20);
});

Deno.test("flight: a leader whose own client left does not fail its waiters", async () => {
  const l1a = layer();
  let calls = 0;
  const leaderAbort = new AbortController();
  const next = async (): Promise<Answer> => {
    calls++;
    if (calls === 1) {
      await new Promise((r) => setTimeout(r, 0));
      throw new GatewayError(499, "client_closed_request", "the client closed the request");
    }
    const json = '{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"4"},' +
      '"finish_reason":"stop"}]}';
    return {
      layer: "l3",
      status: 200,
      headers: {},
      protocol: "openai_chat",
      body: { kind: "json", bytes: new TextEncoder().encode(json) },
    };
  };
  const leader = l1a.handle(request(leaderAbort.signal), CTX, next).catch((e) => e);
  const waiters = Array.from({ length: 5 }, () => l1a.handle(request(), CTX, next));
  const answers = await Promise.all(waiters);
  assert.equal((await leader).status, 499);
  assert.ok(answers.every((a) => a.status === 200));
  assert.equal(calls, 2, "one new leader, the rest served from its recording");
});
