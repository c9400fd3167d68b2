// Cross-protocol serving: an Anthropic client on an OpenAI-compatible provider, and the reverse.
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";

const TOOL_ANSWER = {
  answer: {
    text: "Checking.",
    toolCall: { id: "call_7", name: "get_weather", arguments: '{"city":"Lima"}' },
  },
};

Deno.test("cross: Claude-style client served by an OpenAI-compatible provider (groq)", async () => {
  const mock = await startMockUpstream(TOOL_ANSWER);
  const gw = await startGateway({
    llm_provider: "groq",
    external_llm_url: `${mock.url}/openai/v1`,
    external_llm_model: "llama-3.3-70b-versatile",
    external_llm_api_key: "gsk-provider",
  });
  const client = new Anthropic({ apiKey: "unused", baseURL: gw.url, maxRetries: 0 });
  try {
    const params = {
      model: "claude-test-model",
      max_tokens: 200,
      system: "Be brief.",
      messages: [{ role: "user" as const, content: "Weather in Lima?" }],
      tools: [{ name: "get_weather", input_schema: { type: "object" as const, properties: {} } }],
    };
    const msg = await client.messages.create(params);
    const sent = mock.requests[0];
    assert.equal(sent.path, "/openai/v1/chat/completions");
    assert.equal(sent.headers["authorization"], "Bearer gsk-provider");
    const body = sent.body as Record<string, unknown>;
    assert.equal(body.model, "llama-3.3-70b-versatile");
    assert.deepEqual((body.messages as unknown[])[0], { role: "system", content: "Be brief." });
    assert.equal((body.tools as { function: { name: string } }[])[0].function.name, "get_weather");
    assert.equal(msg.stop_reason, "tool_use");
    assert.equal(msg.content[0].type, "text");
    const tool = msg.content.find((b) => b.type === "tool_use");
    assert.ok(tool && tool.type === "tool_use");
    assert.equal(tool.id, "call_7");
    assert.deepEqual(tool.input, { city: "Lima" });
    assert.equal(msg.usage.input_tokens, 12);

    const stream = client.messages.stream({ ...params });
    const types: string[] = [];
    for await (const ev of stream) types.push(ev.type);
    const final = await stream.finalMessage();
    assert.equal(types[0], "message_start");
    assert.equal(types.at(-1), "message_stop");
    assert.equal(final.stop_reason, "tool_use");
    assert.deepEqual(final.content.find((b) => b.type === "tool_use")?.input, { city: "Lima" });
    assert.equal((mock.requests[1].body as { stream: boolean }).stream, true);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("cross: OpenAI client served by Anthropic", async () => {
  const mock = await startMockUpstream(TOOL_ANSWER);
  const gw = await startGateway({
    llm_provider: "anthropic",
    external_llm_url: `${mock.url}/v1`,
    external_llm_model: "claude-test-model",
    external_llm_api_key: "sk-ant",
  });
  const client = new OpenAI({ apiKey: "unused", baseURL: `${gw.url}/v1`, maxRetries: 0 });
  try {
    const params = {
      model: "gpt-4o",
      messages: [
        { role: "system" as const, content: "Be brief." },
        { role: "user" as const, content: "Weather in Lima?" },
      ],
      tools: [{
        type: "function" as const,
        function: { name: "get_weather", parameters: { type: "object" } },
      }],
    };
    const completion = await client.chat.completions.create(params);
    const body = mock.requests[0].body as Record<string, unknown>;
    assert.equal(mock.requests[0].path, "/v1/messages");
    assert.equal(body.system, "Be brief.");
    assert.equal(body.model, "claude-test-model");
    assert.equal(typeof body.max_tokens, "number");
    assert.equal(completion.choices[0].finish_reason, "tool_calls");
    assert.equal(completion.choices[0].message.tool_calls?.[0].id, "call_7");
    assert.equal(completion.usage?.prompt_tokens, 12);

    const stream = await client.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    let args = "";
    let finish: string | null = null;
    let usage = 0;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta;
      args += d?.tool_calls?.[0]?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    assert.deepEqual(JSON.parse(args), { city: "Lima" });
    assert.equal(finish, "tool_calls");
    assert.equal(usage, 10);
  } finally {
    await gw.close();
    await mock.close();
  }
});
