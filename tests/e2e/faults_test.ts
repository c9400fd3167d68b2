// Resilience: retries, fallback, timeouts, cut streams and client aborts, on real sockets.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";

const CHAT = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };

function post(url: string, body: unknown, init: RequestInit = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });
}

Deno.test("faults: a 429 with Retry-After is retried, then succeeds", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    l3_retry_max_ms: 1000,
  });
  try {
    mock.enqueue({ kind: "error", status: 429, headers: { "retry-after": "0.05" } });
    const t0 = performance.now();
    const res = await post(gw.url, CHAT);
    await res.json();
    assert.equal(res.status, 200);
    assert.equal(mock.requests.length, 2);
    assert.ok(performance.now() - t0 >= 45, "Retry-After was honoured");
    assert.equal(
      gw.gateway.metrics.upstreamAttempts.get({ provider: "openai_compatible", outcome: "429" }),
      1,
    );
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("faults: a Retry-After longer than l3_retry_max_ms moves on to the fallback at once", async () => {
  const primary = await startMockUpstream();
  const backup = await startMockUpstream();
  primary.enqueue({ kind: "error", status: 429, headers: { "retry-after": "30" } });
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: primary.url,
    fallback_providers: [{ provider: "openai_compatible", url: backup.url }],
  });
  try {
    const res = await post(gw.url, CHAT);
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal(primary.requests.length, 1);
    assert.equal(backup.requests.length, 1);
  } finally {
    await gw.close();
    await primary.close();
    await backup.close();
  }
});

Deno.test("faults: a 500 storm on the primary falls back to the next provider", async () => {
  const primary = await startMockUpstream();
  const backup = await startMockUpstream({ answer: { text: "from backup" } });
  primary.defaultBehaviour = { kind: "error", status: 500 };
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: primary.url,
    l3_max_retries: 2,
    fallback_providers: [{ provider: "openai_compatible", url: backup.url, model: "backup-model" }],
  });
  try {
    const res = await post(gw.url, CHAT);
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.equal(primary.requests.length, 3, "1 try + 2 retries on the primary");
    assert.equal(backup.requests.length, 1);
    assert.equal((backup.requests[0].body as { model: string }).model, "backup-model");
    assert.equal(body.choices[0].message.content, "from backup");
    assert.equal(gw.gateway.metrics.fallbacks.get({ to: "openai_compatible" }), 1);
  } finally {
    await gw.close();
    await primary.close();
    await backup.close();
  }
});

Deno.test("faults: when every provider fails, the client gets the last provider's status and message", async () => {
  const mock = await startMockUpstream();
  mock.defaultBehaviour = {
    kind: "error",
    status: 503,
    body: { error: { message: "overloaded, try later", type: "server_error", code: null } },
  };
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    l3_max_retries: 1,
  });
  try {
    const res = await post(gw.url, CHAT);
    const body = await res.json();
    assert.equal(res.status, 503);
    assert.equal(body.error.message, "overloaded, try later");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("faults: a hanging provider times out per attempt with a 504", async () => {
  const mock = await startMockUpstream();
  mock.defaultBehaviour = { kind: "hang" };
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    l3_timeout_secs: 0.2,
    l3_max_retries: 1,
  });
  try {
    const res = await post(gw.url, CHAT);
    const body = await res.json();
    assert.equal(res.status, 504);
    assert.match(body.error.message, /l3_timeout_secs/);
    assert.equal(mock.requests.length, 2);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("faults: a stream cut mid-way reaches the client as an error and is never retried", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({ llm_provider: "openai_compatible", external_llm_url: mock.url });
  const client = new OpenAI({ apiKey: "x", baseURL: `${gw.url}/v1`, maxRetries: 0 });
  try {
    mock.enqueue({ kind: "cut", afterEvents: 2 });
    const stream = await client.chat.completions.create({ ...CHAT, stream: true });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta?.content ?? "");
    })().catch((e) => e);
    assert.ok(err instanceof Error, "the client sees an error");
    assert.match(String(err.message), /interrupted/);
    assert.equal(seen.length, 2, "the events before the cut were delivered");
    assert.equal(mock.requests.length, 1, "nothing was retried");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("faults: a client abort cancels the upstream request", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({ llm_provider: "openai_compatible", external_llm_url: mock.url });
  try {
    // Mid-stream: the client reads one chunk, then goes away.
    mock.enqueue({ kind: "slow_stream", eventDelayMs: 200 });
    const ctrl = new AbortController();
    const aborted = mock.nextAbort();
    const res = await post(gw.url, { ...CHAT, stream: true }, { signal: ctrl.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ctrl.abort();
    await reader.cancel().catch(() => {});
    await aborted;
    assert.equal(mock.aborted, 1);

    // Before the headers: the client gives up while the provider is still thinking.
    mock.enqueue({ kind: "hang" });
    const ctrl2 = new AbortController();
    const aborted2 = mock.nextAbort();
    const pending = post(gw.url, CHAT, { signal: ctrl2.signal }).catch((e) => e);
    while (mock.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    ctrl2.abort();
    await pending;
    await aborted2;
    assert.equal(mock.aborted, 2);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("faults: key pool rotates past a refused key and cools it down", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    key_rotation_strategy: "priority",
    provider_keys: [
      { key: "sk-bad", priority: 1, label: "bad" },
      { key: "sk-good", priority: 2, label: "good" },
    ],
  });
  try {
    mock.enqueue({ kind: "error", status: 401 });
    const res = await post(gw.url, CHAT);
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.deepEqual(mock.requests.map((r) => r.headers["authorization"]), [
      "Bearer sk-bad",
      "Bearer sk-good",
    ]);
    // The refused key is cooling down: the next request goes straight to the good one.
    const res2 = await post(gw.url, CHAT);
    await res2.body?.cancel();
    assert.equal(mock.requests[2].headers["authorization"], "Bearer sk-good");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("faults: a client's own credential never reaches a fallback provider", async () => {
  const primary = await startMockUpstream();
  const backup = await startMockUpstream();
  primary.defaultBehaviour = { kind: "error", status: 529 };
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: primary.url,
    l3_max_retries: 0,
    fallback_providers: [{ provider: "openai_compatible", url: backup.url, model: "b" }],
  });
  try {
    const res = await post(gw.url, CHAT, {
      headers: { "content-type": "application/json", authorization: "Bearer sk-client-secret" },
    });
    await res.body?.cancel();
    assert.equal(primary.requests[0].headers["authorization"], "Bearer sk-client-secret");
    assert.equal(backup.requests.length, 1);
    assert.equal(backup.requests[0].headers["authorization"], undefined);
  } finally {
    await gw.close();
    await primary.close();
    await backup.close();
  }
});
