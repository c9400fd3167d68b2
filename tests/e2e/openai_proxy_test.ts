// Faithful proxy, OpenAI protocol: bytes in equal bytes out, streams relayed event by event.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { type MockUpstreamOptions, startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway, startMockedGateway } from "../support/gateway_harness.ts";

const TOOLS = [{
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
}];

/** The mock as an OpenAI-compatible provider, caches off (every request reaches it), and an SDK client. */
async function setup(answer?: MockUpstreamOptions, config: Record<string, unknown> = {}) {
  const t = await startMockedGateway({
    external_llm_api_key: "sk-provider",
    cache_mode: "off",
    ...config,
  }, answer);
  const client = new OpenAI({ apiKey: "sk-client", baseURL: `${t.gw.url}/v1`, maxRetries: 0 });
  return Object.assign(t, { client });
}

Deno.test("openai: the request body reaches the provider byte for byte", async () => {
  await using t = await setup();
  // Unusual key order, spacing and fields the gateway does not know must all survive.
  const raw = `{"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":[` +
    `{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],` +
    ` "model":"gpt-4o-mini","temperature":0.25,"top_p":0.9,"seed":7,"tools":${
      JSON.stringify(TOOLS)
    },` +
    `"tool_choice":"auto","x_vendor_field":{"keep":true},"max_tokens":50}`;
  const res = await fetch(`${t.gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-client" },
    body: raw,
  });
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.equal(t.mock.requests.length, 1);
  assert.equal(t.mock.requests[0].rawBody, raw);
  assert.equal(t.mock.requests[0].path, "/v1/chat/completions");
  // The provider key replaced the client's credential.
  assert.equal(t.mock.requests[0].headers["authorization"], "Bearer sk-provider");
  assert.deepEqual(body, t.mock.lastSent!.json);
  assert.equal(res.headers.get("x-isartor-layer"), "l3");
  assert.equal(res.headers.get("x-isartor-deflected"), "false");
  assert.equal(res.headers.get("x-request-id"), t.mock.lastSent!.headers["x-request-id"]);
  assert.equal(res.headers.get("x-ratelimit-remaining-requests"), "99");
});

Deno.test("openai: l3_http_client = fetch (for HTTP proxies) relays the same, plain and streamed", async () => {
  await using t = await setup(undefined, { l3_http_client: "fetch", cache_mode: "off" });
  const params = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "Hi" }] };
  const completion = await t.client.chat.completions.create(params);
  assert.equal(t.mock.requests[0].rawBody, JSON.stringify(params));
  assert.deepEqual(JSON.parse(JSON.stringify(completion)), t.mock.lastSent!.json);
  const stream = await t.client.chat.completions.create({ ...params, stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  assert.equal(text, completion.choices[0].message.content);
});

Deno.test("openai: the SDK gets the provider's answer unchanged, plain and with tools", async () => {
  await using t = await setup({
    answer: { toolCall: { id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' } },
  });
  const params = {
    model: "gpt-4o-mini",
    messages: [{ role: "user" as const, content: "Weather in Paris?" }],
    tools: TOOLS,
  };
  const completion = await t.client.chat.completions.create(params);
  assert.deepEqual(t.mock.requests[0].body, params);
  assert.deepEqual(JSON.parse(JSON.stringify(completion)), t.mock.lastSent!.json);
  assert.equal(completion.choices[0].finish_reason, "tool_calls");
  assert.equal(completion.choices[0].message.tool_calls?.[0].id, "call_1");
});

Deno.test("openai: a stream is relayed event by event, unchanged", async () => {
  await using t = await setup();
  const stream = await t.client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: unknown[] = [];
  for await (const chunk of stream) chunks.push(JSON.parse(JSON.stringify(chunk)));
  const sent = t.mock.lastSent!.sse!.filter((e) => e.data !== "[DONE]").map((e) =>
    JSON.parse(e.data)
  );
  assert.deepEqual(chunks, sent);
  assert.ok(chunks.length >= 4);
  assert.equal(t.mock.requests[0].rawBody.includes('"stream":true'), true);
});

Deno.test("openai: raw SSE bytes equal what the provider sent", async () => {
  await using t = await setup();
  const res = await fetch(`${t.gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true }),
  });
  assert.equal(res.headers.get("content-type")?.startsWith("text/event-stream"), true);
  const text = await res.text();
  const expected = t.mock.lastSent!.sse!.map((e) => `data: ${e.data}\n\n`).join("");
  assert.equal(text, expected);
});

Deno.test("openai: provider errors keep their status and message", async () => {
  await using t = await setup();
  t.mock.enqueue({
    kind: "error",
    status: 400,
    body: {
      error: {
        message: "model `nope` does not exist",
        type: "invalid_request_error",
        code: "model_not_found",
      },
    },
  });
  const err = await t.client.chat.completions.create({
    model: "nope",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assert.ok(err instanceof OpenAI.BadRequestError);
  assert.equal(err.status, 400);
  assert.match(err.message, /does not exist/);
  assert.equal(t.mock.requests.length, 1, "a 400 is never retried");
});

Deno.test("openai: Responses API requests pass through to a provider that serves them", async () => {
  await using t = await setup(undefined, { llm_provider: "openai" });
  const resp = await t.client.responses.create({ model: "gpt-4o-mini", input: "hello" });
  assert.equal(t.mock.requests[0].path, "/v1/responses");
  assert.deepEqual(
    JSON.parse(JSON.stringify(resp)).output,
    (t.mock.lastSent!.json as { output: unknown }).output,
  );
  const stream = await t.client.responses.create({
    model: "gpt-4o-mini",
    input: "hello",
    stream: true,
  });
  const types: string[] = [];
  for await (const ev of stream) types.push(ev.type);
  assert.deepEqual(types, t.mock.lastSent!.sse!.map((e) => JSON.parse(e.data).type));
});

Deno.test("openai: Responses API requests are translated for a chat-only provider", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "groq",
    external_llm_url: `${mock.url}/openai/v1`,
    external_llm_api_key: "gsk-provider",
  });
  try {
    const client = new OpenAI({ apiKey: "x", baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const resp = await client.responses.create({
      model: "llama-3.3-70b-versatile",
      instructions: "Be terse.",
      input: "hello",
    });
    assert.equal(mock.requests[0].path, "/openai/v1/chat/completions");
    const sent = mock.requests[0].body as { messages: { role: string; content: unknown }[] };
    assert.equal(sent.messages[0].role, "system");
    assert.equal(resp.output_text, "Hello! This is a canned answer from the mock upstream.");
    const stream = await client.responses.create({ model: "m", input: "hello", stream: true });
    let text = "";
    let completed = false;
    for await (const ev of stream) {
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") completed = true;
    }
    assert.equal(text, "Hello! This is a canned answer from the mock upstream.");
    assert.ok(completed);
  } finally {
    await gw.close();
    await mock.close();
  }
});
