// L1a exact cache on real sockets: replay, modes, tenants, persistence, single-flight, controls.
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { ByteStore } from "../../src/cache/byte_store.ts";
import { type MockUpstreamOptions, startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway, startMockedGateway } from "../support/gateway_harness.ts";

const CHAT = {
  model: "gpt-4o-mini",
  messages: [{ role: "user" as const, content: "What is 2+2?" }],
};

function setup(
  config: Record<string, unknown> = {},
  mockOpts: MockUpstreamOptions = {},
  options: { cacheStore?: ByteStore } = {},
) {
  return startMockedGateway({ external_llm_api_key: "sk-provider", ...config }, mockOpts, options);
}

function post(url: string, path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

Deno.test("l1a: a repeat, even with reordered keys, is answered from cache byte for byte", async () => {
  await using t = await setup();
  const first = await post(t.gw.url, "/v1/chat/completions", JSON.stringify(CHAT));
  const firstText = await first.text();
  assert.equal(first.headers.get("x-isartor-layer"), "l3");
  const reordered =
    `{"messages":[{"content":"What is 2+2?","role":"user"}],  "model":"gpt-4o-mini"}`;
  const second = await post(t.gw.url, "/v1/chat/completions", reordered);
  assert.equal(await second.text(), firstText);
  assert.equal(second.headers.get("x-isartor-layer"), "l1a");
  assert.equal(second.headers.get("x-isartor-deflected"), "true");
  assert.match(second.headers.get("age") ?? "", /^\d+$/);
  assert.equal(t.mock.requests.length, 1);
  // A changed sampling parameter is another question.
  const hotter = await post(
    t.gw.url,
    "/v1/chat/completions",
    JSON.stringify({ ...CHAT, temperature: 0.9 }),
  );
  await hotter.body?.cancel();
  assert.equal(hotter.headers.get("x-isartor-layer"), "l3");
  assert.equal(t.mock.requests.length, 2);
});

Deno.test("l1a: a cached stream replays the same event sequence the client first received", async () => {
  await using t = await setup();
  const client = new OpenAI({ apiKey: "x", baseURL: `${t.gw.url}/v1`, maxRetries: 0 });
  const collect = async () => {
    const { data, response } = await client.chat.completions.create({
      ...CHAT,
      stream: true,
      stream_options: { include_usage: true },
    }).withResponse();
    const chunks: unknown[] = [];
    for await (const c of data) chunks.push(JSON.parse(JSON.stringify(c)));
    return { chunks, layer: response.headers.get("x-isartor-layer") };
  };
  const first = await collect();
  const second = await collect();
  assert.equal(first.layer, "l3");
  assert.equal(second.layer, "l1a");
  assert.deepEqual(second.chunks, first.chunks);
  assert.ok(second.chunks.length >= 4, "replayed event by event, not as one burst");
  assert.equal(t.mock.requests.length, 1);
});

Deno.test("l1a: JSON from a cached stream and a stream from cached JSON (OpenAI SDK)", async () => {
  await using t = await setup();
  const client = new OpenAI({ apiKey: "x", baseURL: `${t.gw.url}/v1`, maxRetries: 0 });
  const plain = await client.chat.completions.create(CHAT);
  const stream = await client.chat.completions.create({ ...CHAT, stream: true });
  let text = "";
  let finish = null;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? "";
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, plain.choices[0].message.content);
  assert.equal(finish, plain.choices[0].finish_reason);
  assert.equal(t.mock.requests.length, 1);

  // And the other way round, on another question.
  const q2 = { ...CHAT, messages: [{ role: "user" as const, content: "And 3+3?" }] };
  const s2 = await client.chat.completions.create({ ...q2, stream: true });
  let t2 = "";
  for await (const c of s2) t2 += c.choices[0]?.delta?.content ?? "";
  const p2 = await client.chat.completions.create(q2);
  assert.equal(p2.choices[0].message.content, t2);
  assert.equal(p2.id.startsWith("chatcmpl-mock"), true, "the upstream id comes back");
  assert.equal(t.mock.requests.length, 2);
});

Deno.test("l1a: JSON from a cached stream and a stream from cached JSON (Anthropic SDK, with tools)", async () => {
  await using t = await setup(
    { llm_provider: "anthropic" },
    {
      answer: {
        text: "Checking.",
        toolCall: { id: "toolu_1", name: "get_weather", arguments: '{"city":"Oslo"}' },
      },
    },
  );
  const client = new Anthropic({ apiKey: "x", baseURL: t.gw.url, maxRetries: 0 });
  const params = {
    model: "claude-test-model",
    max_tokens: 100,
    messages: [{ role: "user" as const, content: "Weather in Oslo?" }],
    tools: [{ name: "get_weather", input_schema: { type: "object" as const, properties: {} } }],
  };
  const stream = client.messages.stream(params);
  for await (const _ of stream) { /* drain */ }
  const streamed = await stream.finalMessage();
  const { data: plain, response } = await client.messages.create(params).withResponse();
  assert.equal(response.headers.get("x-isartor-layer"), "l1a");
  assert.deepEqual(plain.content, streamed.content);
  assert.equal(plain.stop_reason, "tool_use");
  assert.equal(plain.id, streamed.id);

  // Stream from cached JSON, on a fresh question.
  const q2 = { ...params, messages: [{ role: "user" as const, content: "Weather in Rome?" }] };
  const json = await client.messages.create(q2);
  const s2 = client.messages.stream(q2);
  const types: string[] = [];
  for await (const ev of s2) types.push(ev.type);
  const replayed = await s2.finalMessage();
  assert.deepEqual(replayed.content, json.content);
  assert.equal(replayed.stop_reason, json.stop_reason);
  assert.equal(types[0], "message_start");
  assert.equal(types.at(-1), "message_stop");
  assert.equal(t.mock.requests.length, 2);
});

Deno.test("l1a: tenants never share an entry", async () => {
  await using t = await setup({ external_llm_api_key: "", tenant_header: "" });
  // Pass-through auth: the tenant is a hash of each client's own credential.
  const a1 = await post(t.gw.url, "/v1/chat/completions", JSON.stringify(CHAT), {
    authorization: "Bearer sk-alice",
  });
  await a1.body?.cancel();
  const b1 = await post(t.gw.url, "/v1/chat/completions", JSON.stringify(CHAT), {
    authorization: "Bearer sk-bob",
  });
  await b1.body?.cancel();
  assert.equal(b1.headers.get("x-isartor-layer"), "l3");
  const a2 = await post(t.gw.url, "/v1/chat/completions", JSON.stringify(CHAT), {
    authorization: "Bearer sk-alice",
  });
  await a2.body?.cancel();
  assert.equal(a2.headers.get("x-isartor-layer"), "l1a");
  assert.equal(t.mock.requests.length, 2);
  // Bob clears his cache; Alice keeps hers.
  const del = await fetch(`${t.gw.url}/api/v1/cache`, {
    method: "DELETE",
    headers: { authorization: "Bearer sk-bob" },
  });
  assert.deepEqual(await del.json(), { deleted: 1, scope: "tenant" });
  const a3 = await post(t.gw.url, "/v1/chat/completions", JSON.stringify(CHAT), {
    authorization: "Bearer sk-alice",
  });
  await a3.body?.cancel();
  assert.equal(a3.headers.get("x-isartor-layer"), "l1a");
  // No response reveals another tenant's key.
  assert.ok(!JSON.stringify([...a3.headers]).includes("sk-bob"));
});

Deno.test("l1a: tenant_header partitions callers sharing one gateway key", async () => {
  await using t = await setup({ gateway_api_key: "gw", tenant_header: "x-team" });
  const send = async (team: string) => {
    const r = await post(t.gw.url, "/v1/chat/completions", JSON.stringify(CHAT), {
      "x-api-key": "gw",
      "x-team": team,
    });
    await r.body?.cancel();
    return r.headers.get("x-isartor-layer");
  };
  assert.equal(await send("red"), "l3");
  assert.equal(await send("blue"), "l3");
  assert.equal(await send("red"), "l1a");
});

Deno.test("l1a: the cache survives a restart (Deno KV on disk), large answers included", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "isartor-kv-" });
  const bigText = "word ".repeat(40_000); // 200 KB: chunked under KV's 64 KiB limit
  const mock = await startMockUpstream({ answer: { text: bigText } });
  const config = {
    llm_provider: "openai_compatible",
    external_llm_url: `${mock.url}/v1`,
    cache_mode: "exact",
    cache_backend: "kv",
    data_dir: dataDir,
  };
  try {
    const gw1 = await startGateway(config);
    const r1 = await post(gw1.url, "/v1/chat/completions", JSON.stringify(CHAT));
    const body1 = await r1.text();
    // Let the background write land before the restart.
    await new Promise((r) => setTimeout(r, 100));
    await gw1.close();
    const gw2 = await startGateway(config);
    const r2 = await post(gw2.url, "/v1/chat/completions", JSON.stringify(CHAT));
    assert.equal(r2.headers.get("x-isartor-layer"), "l1a");
    assert.equal(await r2.text(), body1);
    assert.equal(mock.requests.length, 1);
    await gw2.close();
  } finally {
    await mock.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("l1a: 100 concurrent identical misses call the upstream once", async () => {
  await using t = await setup();
  t.mock.defaultBehaviour = { kind: "delay", ms: 150 };
  const bodies = await Promise.all(
    Array.from({ length: 100 }, async () => {
      const r = await post(t.gw.url, "/v1/chat/completions", JSON.stringify(CHAT));
      assert.equal(r.status, 200);
      return await r.text();
    }),
  );
  assert.equal(t.mock.requests.length, 1);
  assert.equal(new Set(bodies).size, 1);
  const stats = await (await fetch(`${t.gw.url}/api/v1/cache/stats`)).json();
  assert.equal(stats.l1a.coalesced, 99);
});

Deno.test("l1a: cut streams and errors are never cached; max_tokens stops are", async () => {
  await using t = await setup({ l3_max_retries: 0 });
  const stream = JSON.stringify({ ...CHAT, stream: true });
  t.mock.enqueue({ kind: "cut", afterEvents: 2 });
  const cut = await post(t.gw.url, "/v1/chat/completions", stream);
  assert.match(await cut.text(), /interrupted/);
  const again = await post(t.gw.url, "/v1/chat/completions", stream);
  await again.text();
  assert.equal(again.headers.get("x-isartor-layer"), "l3", "the cut stream was not cached");
  assert.equal(t.mock.requests.length, 2);

  const q = JSON.stringify({ ...CHAT, messages: [{ role: "user", content: "fail?" }] });
  t.mock.enqueue({ kind: "error", status: 500 });
  const failed = await post(t.gw.url, "/v1/chat/completions", q);
  await failed.body?.cancel();
  assert.equal(failed.status, 500);
  const retry = await post(t.gw.url, "/v1/chat/completions", q);
  await retry.body?.cancel();
  assert.equal(retry.headers.get("x-isartor-layer"), "l3", "the error was not cached");

  const short = JSON.stringify({ ...CHAT, max_tokens: 1 });
  const s1 = await post(t.gw.url, "/v1/chat/completions", short);
  assert.equal((await s1.json()).choices[0].finish_reason, "length");
  const s2 = await post(t.gw.url, "/v1/chat/completions", short);
  await s2.body?.cancel();
  assert.equal(s2.headers.get("x-isartor-layer"), "l1a");
});

Deno.test("l1a: Cache-Control no-cache refreshes, no-store and x-isartor-cache: off bypass", async () => {
  await using t = await setup();
  const body = JSON.stringify(CHAT);
  const layer = async (headers: Record<string, string> = {}) => {
    const r = await post(t.gw.url, "/v1/chat/completions", body, headers);
    await r.body?.cancel();
    return r.headers.get("x-isartor-layer");
  };
  assert.equal(await layer({ "cache-control": "no-store" }), "l3");
  assert.equal(await layer(), "l3", "no-store wrote nothing");
  assert.equal(await layer(), "l1a");
  assert.equal(await layer({ "cache-control": "no-cache" }), "l3", "no-cache skips the lookup");
  assert.equal(await layer({ "x-isartor-cache": "off" }), "l3");
  assert.equal(await layer(), "l1a");
  assert.equal(t.mock.requests.length, 4);
  assert.equal(t.mock.requests.every((r) => !("cache-control" in r.headers)), true);
});

Deno.test("l1a: sampled requests bypass the cache when cache_sampled_requests = false", async () => {
  await using t = await setup({ cache_sampled_requests: false });
  const send = async (extra: Record<string, unknown>) => {
    const r = await post(t.gw.url, "/v1/chat/completions", JSON.stringify({ ...CHAT, ...extra }));
    await r.body?.cancel();
    return r.headers.get("x-isartor-layer");
  };
  assert.equal(await send({ temperature: 0.7 }), "l3");
  assert.equal(await send({ temperature: 0.7 }), "l3");
  assert.equal(await send({ temperature: 0 }), "l3");
  assert.equal(await send({ temperature: 0 }), "l1a");
  assert.equal(await send({ temperature: 0.7, seed: 1 }), "l3");
  assert.equal(await send({ temperature: 0.7, seed: 1 }), "l1a");
});

Deno.test("l1a: a failing store degrades with a metric; requests still succeed", async () => {
  const broken: ByteStore = {
    kind: "broken",
    get: () => Promise.reject(new Error("disk I/O error")),
    set: () => Promise.reject(new Error("disk full")),
    delete: () => Promise.reject(new Error("disk I/O error")),
    deletePrefix: () => Promise.reject(new Error("disk I/O error")),
    close: () => Promise.resolve(),
  };
  await using t = await setup({ cache_backend: "kv" }, undefined, { cacheStore: broken });
  for (let i = 0; i < 2; i++) {
    const r = await post(t.gw.url, "/v1/chat/completions", JSON.stringify(CHAT));
    assert.equal(r.status, 200);
    await r.body?.cancel();
  }
  await new Promise((r) => setTimeout(r, 20));
  const metrics = await (await fetch(`${t.gw.url}/metrics`)).text();
  assert.match(metrics, /isartor_cache_store_errors_total\{op="(get|set)"\} [1-9]/);
});

Deno.test("l1a: admin API: stats, store, lookup, delete by key", async () => {
  await using t = await setup({ gateway_api_key: "gw" });
  const auth = { authorization: "Bearer gw" };
  assert.equal((await fetch(`${t.gw.url}/api/v1/cache/stats`)).status, 401);
  const miss = await post(
    t.gw.url,
    "/api/v1/cache/lookup",
    '{"prompt":"capital of France?"}',
    auth,
  );
  assert.equal(miss.status, 204);
  const stored = await post(
    t.gw.url,
    "/api/v1/cache/store",
    '{"prompt":"capital of France?","response":"Paris."}',
    auth,
  );
  assert.equal(stored.status, 201);
  const { key } = await stored.json();
  const hit = await post(t.gw.url, "/api/v1/cache/lookup", '{"prompt":"capital of France?"}', auth);
  const hitBody = await hit.json();
  assert.equal(hitBody.response, "Paris.");
  // The native API sees the same entry.
  const native = await (await post(t.gw.url, "/api/chat", '{"prompt":"capital of France?"}', auth))
    .json();
  assert.equal(native.layer, "l1a");
  assert.equal(native.response, "Paris.");
  const del = await fetch(`${t.gw.url}/api/v1/cache?key=${key}`, {
    method: "DELETE",
    headers: auth,
  });
  assert.deepEqual(await del.json(), { deleted: 1, scope: "key" });
  assert.equal(
    (await post(t.gw.url, "/api/v1/cache/lookup", '{"prompt":"capital of France?"}', auth)).status,
    204,
  );
  const stats = await (await fetch(`${t.gw.url}/api/v1/cache/stats`, { headers: auth })).json();
  assert.equal(stats.mode, "exact");
  assert.equal(typeof stats.l1a.hits, "number");
  const bad = await post(
    t.gw.url,
    "/api/v1/cache/store",
    '{"prompt":"x","response":{"nope":1}}',
    auth,
  );
  assert.equal(bad.status, 400);
});

Deno.test("l1a: /api/chat reads a stream the provider sent anyway, and the key never hangs", async () => {
  // An upstream that streams even when not asked to.
  const sse = [
    {
      id: "c1",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }],
    },
    {
      id: "c1",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { content: "lo" }, finish_reason: "stop" }],
    },
  ].map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n";
  let calls = 0;
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    calls++;
    await req.body?.cancel();
    return new Response(sse, { headers: { "content-type": "text/event-stream" } });
  });
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: `http://127.0.0.1:${upstream.addr.port}/v1`,
    external_llm_model: "m",
    cache_mode: "exact",
    cache_backend: "memory",
  });
  try {
    const first = await (await post(gw.url, "/api/chat", '{"prompt":"hi"}')).json();
    assert.equal(first.response, "Hello");
    const second = await post(gw.url, "/api/chat", '{"prompt":"hi"}');
    assert.equal((await second.json()).response, "Hello");
    assert.equal(second.headers.get("x-isartor-layer"), "l1a");
    assert.equal(calls, 1);
  } finally {
    await gw.close();
    await upstream.shutdown();
  }
});

Deno.test("l1a: changing the configured upstream model or URL never serves the old answers", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "isartor-model-" });
  const mock = await startMockUpstream();
  const base = {
    llm_provider: "groq",
    external_llm_url: `${mock.url}/openai/v1`,
    cache_mode: "exact",
    cache_backend: "kv",
    data_dir: dataDir,
  };
  const ask = async (config: Record<string, unknown>) => {
    const gw = await startGateway(config);
    try {
      const r = await post(gw.url, "/v1/chat/completions", JSON.stringify(CHAT));
      await r.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
      return r.headers.get("x-isartor-layer");
    } finally {
      await gw.close();
    }
  };
  try {
    assert.equal(await ask({ ...base, external_llm_model: "llama-3.1-8b-instant" }), "l3");
    assert.equal(await ask({ ...base, external_llm_model: "llama-3.1-8b-instant" }), "l1a");
    assert.equal(await ask({ ...base, external_llm_model: "llama-3.3-70b-versatile" }), "l3");
    assert.equal(
      await ask({
        ...base,
        external_llm_model: "llama-3.3-70b-versatile",
        external_llm_url: `${mock.url}/other/v1`,
      }),
      "l3",
    );
  } finally {
    await mock.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("l1a: Codex-shaped Responses requests of two sessions hit; repeated bytes and changed text stay right", async () => {
  await using t = await setup({ llm_provider: "openai" });
  const codex = (session: string, text = "Say hello") =>
    JSON.stringify({
      model: "gpt-5",
      input: [{
        type: "message",
        id: `msg_${session}`,
        role: "user",
        content: [{ type: "input_text", text }],
        internal_chat_message_metadata_passthrough: { turn_id: session, create_time: 1 },
      }],
      store: false,
      stream: true,
      prompt_cache_key: session,
      client_metadata: { session_id: session, turn_id: session },
    });
  const layer = async (body: string) => {
    const res = await post(t.gw.url, "/v1/responses", body);
    await res.text();
    return res.headers.get("x-isartor-layer");
  };
  assert.equal(await layer(codex("s-1")), "l3");
  assert.equal(await layer(codex("s-2")), "l1a");
  // The same bytes again: the raw-bytes memo answers, with the same verdict.
  assert.equal(await layer(codex("s-2")), "l1a");
  // What the model reads still decides.
  assert.equal(await layer(codex("s-2", "Say bye")), "l3");
  assert.equal(await layer(codex("s-3", "Say bye")), "l1a");
  assert.equal(t.mock.requests.length, 2);
});
