// Faithful proxy, Anthropic protocol, with the official SDK as the client.
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import type { MockUpstreamOptions } from "../support/mock_upstream.ts";
import { startMockedGateway } from "../support/gateway_harness.ts";

/** The mock as an Anthropic provider, caches off (every request reaches it), and an SDK client. */
async function setup(opts?: MockUpstreamOptions, config = {}) {
  const t = await startMockedGateway({
    llm_provider: "anthropic",
    external_llm_api_key: "sk-ant-provider",
    cache_mode: "off",
    ...config,
  }, opts);
  const client = new Anthropic({ apiKey: "sk-ant-client", baseURL: t.gw.url, maxRetries: 0 });
  return Object.assign(t, { client });
}

const TOOLS = [{
  name: "get_weather",
  description: "Weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } } },
}];

Deno.test("anthropic: body with cache_control, tools and images reaches the provider unchanged", async () => {
  await using t = await setup();
  const params = {
    model: "claude-test-model",
    max_tokens: 256,
    system: [{
      type: "text" as const,
      text: "You are terse.",
      cache_control: { type: "ephemeral" as const },
    }],
    messages: [
      {
        role: "user" as const,
        content: [
          { type: "text" as const, text: "Describe" },
          {
            type: "image" as const,
            source: {
              type: "base64" as const,
              media_type: "image/png" as const,
              data: "iVBORw0KGgo=",
            },
          },
        ],
      },
      {
        role: "assistant" as const,
        content: [{
          type: "tool_use" as const,
          id: "toolu_1",
          name: "get_weather",
          input: { city: "Oslo" },
        }],
      },
      {
        role: "user" as const,
        content: [{ type: "tool_result" as const, tool_use_id: "toolu_1", content: "3°C, snow" }],
      },
    ],
    tools: TOOLS,
    temperature: 0.3,
    top_k: 40,
  };
  const msg = await t.client.messages.create(params);
  assert.deepEqual(t.mock.requests[0].body, params);
  assert.equal(t.mock.requests[0].path, "/v1/messages");
  assert.equal(t.mock.requests[0].headers["x-api-key"], "sk-ant-provider");
  assert.ok(t.mock.requests[0].headers["anthropic-version"]);
  assert.deepEqual(JSON.parse(JSON.stringify(msg)), t.mock.lastSent!.json);
});

Deno.test("anthropic: a streamed tool call is relayed with the same event sequence", async () => {
  await using t = await setup({
    answer: {
      text: "Let me check.",
      toolCall: { id: "toolu_9", name: "get_weather", arguments: '{"city":"Rome"}' },
    },
  });
  const stream = t.client.messages.stream({
    model: "claude-test-model",
    max_tokens: 100,
    messages: [{ role: "user", content: "Weather in Rome?" }],
    tools: TOOLS,
  });
  const types: string[] = [];
  for await (const ev of stream) types.push(ev.type);
  const final = await stream.finalMessage();
  // The SDK hides pings; everything else arrives in the provider's order.
  assert.deepEqual(types, t.mock.lastSent!.sse!.map((e) => e.event).filter((e) => e !== "ping"));
  assert.equal(final.stop_reason, "tool_use");
  const tool = final.content.find((b) => b.type === "tool_use");
  assert.deepEqual(tool && "input" in tool ? tool.input : null, { city: "Rome" });
});

Deno.test("anthropic: pass-through auth forwards the client's own credential when no key is set", async () => {
  await using t = await setup(undefined, { external_llm_api_key: "" });
  await t.client.messages.create({
    model: "claude-test-model",
    max_tokens: 10,
    messages: [{ role: "user", content: "hi" }],
  });
  // The SDK sends its key as a bearer token; it is forwarded as the client sent it.
  assert.equal(t.mock.requests[0].headers["authorization"], "Bearer sk-ant-client");
  const raw = await fetch(`${t.gw.url}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": "sk-ant-raw",
      "anthropic-version": "2023-06-01",
    },
    body: JSON.stringify({
      model: "m",
      max_tokens: 5,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  await raw.body?.cancel();
  assert.equal(t.mock.requests[1].headers["x-api-key"], "sk-ant-raw");
});

Deno.test("anthropic: count_tokens goes to the provider", async () => {
  await using t = await setup();
  const res = await t.client.messages.countTokens({
    model: "claude-test-model",
    messages: [{ role: "user", content: "count me" }],
  });
  assert.equal(typeof res.input_tokens, "number");
  assert.equal(t.mock.requests[0].path, "/v1/messages/count_tokens");
});

Deno.test("anthropic: provider errors keep status and message in Anthropic's envelope", async () => {
  await using t = await setup();
  t.mock.enqueue({
    kind: "error",
    status: 400,
    body: {
      type: "error",
      error: { type: "invalid_request_error", message: "max_tokens: too large" },
    },
  });
  const err = await t.client.messages.create({
    model: "claude-test-model",
    max_tokens: 10,
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assert.ok(err instanceof Anthropic.BadRequestError);
  assert.match(err.message, /max_tokens: too large/);
});

Deno.test("anthropic: raw SSE bytes equal what the provider sent", async () => {
  await using t = await setup();
  const res = await fetch(`${t.gw.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({
      model: "m",
      max_tokens: 50,
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  const text = await res.text();
  const expected = t.mock.lastSent!.sse!.map((e) => `event: ${e.event}\ndata: ${e.data}\n\n`).join(
    "",
  );
  assert.equal(text, expected);
});
