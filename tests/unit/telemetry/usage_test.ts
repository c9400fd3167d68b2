// Usage is read from JSON bodies, recordings and live streams without changing a byte.
import assert from "node:assert/strict";
import {
  readUsageObject,
  tapSseUsage,
  usageOfEvents,
  usageOfJson,
} from "../../../src/telemetry/usage.ts";

const enc = new TextEncoder();

Deno.test("usage: the three protocols' usage objects", () => {
  assert.deepEqual(
    readUsageObject({
      prompt_tokens: 12,
      completion_tokens: 3,
      prompt_tokens_details: { cached_tokens: 4 },
    }),
    { inputTokens: 12, outputTokens: 3, cacheReadTokens: 4 },
  );
  // Anthropic counts cache tokens apart from input_tokens: the whole prompt is their sum.
  assert.deepEqual(
    readUsageObject({
      input_tokens: 5,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 10,
      output_tokens: 7,
    }),
    { inputTokens: 115, outputTokens: 7, cacheReadTokens: 100 },
  );
  assert.deepEqual(
    readUsageObject({
      input_tokens: 9,
      output_tokens: 2,
      input_tokens_details: { cached_tokens: 0 },
    }),
    { inputTokens: 9, outputTokens: 2, cacheReadTokens: 0 },
  );
  assert.equal(readUsageObject(null), null);
  assert.equal(readUsageObject({}), null);
});

Deno.test("usage: JSON bodies and recordings", () => {
  const body = { id: "x", choices: [], usage: { prompt_tokens: 1, completion_tokens: 2 } };
  assert.deepEqual(usageOfJson(enc.encode(JSON.stringify(body))), {
    inputTokens: 1,
    outputTokens: 2,
  });
  assert.equal(usageOfJson(enc.encode("not json")), null);
  assert.deepEqual(
    usageOfEvents([
      { type: "usage", usage: { inputTokens: 10 } },
      { type: "text", text: "hi" },
      { type: "usage", usage: { outputTokens: 4 } },
      { type: "stop", reason: "end_turn" },
    ]),
    { inputTokens: 10, outputTokens: 4 },
  );
  assert.equal(usageOfEvents([{ type: "stop", reason: "end_turn" }]), null);
});

async function pipe(chunks: string[]) {
  let seen: unknown = undefined;
  let completed: boolean | undefined;
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
  const out = tapSseUsage(source, (u, ok) => {
    seen = u;
    completed = ok;
  });
  const text = await new Response(out).text();
  return { text, seen, completed };
}

Deno.test("usage: a live Anthropic stream, split mid-line, passes unchanged", async () => {
  const sse = 'event: message_start\ndata: {"type":"message_start","message":{"usage":' +
    '{"input_tokens":20,"output_tokens":1}}}\n\nevent: content_block_delta\ndata: {"type":' +
    '"content_block_delta","delta":{"text":"hi"}}\n\nevent: message_delta\ndata: {"type":' +
    '"message_delta","usage":{"output_tokens":9}}\n\n';
  const chunks = [sse.slice(0, 30), sse.slice(30, 77), sse.slice(77, 200), sse.slice(200)];
  const { text, seen, completed } = await pipe(chunks);
  assert.equal(text, sse);
  assert.deepEqual(seen, { inputTokens: 20, outputTokens: 9 });
  assert.equal(completed, true);
});

Deno.test("usage: an OpenAI stream with include_usage; cancelling reports an incomplete end", async () => {
  const sse = 'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n' +
    'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\ndata: [DONE]\n\n';
  const { seen } = await pipe([sse]);
  assert.deepEqual(seen, { inputTokens: 3, outputTokens: 1 });

  let ended: boolean | undefined;
  const never = new ReadableStream<Uint8Array>({ pull() {} });
  const tapped = tapSseUsage(never, (_u, ok) => ended = ok);
  await tapped.cancel("client left");
  assert.equal(ended, false);
});

Deno.test("usage: Gemini usageMetadata, in a JSON body and in a stream", async () => {
  const body = {
    candidates: [{ content: { parts: [{ text: "hi" }] }, finishReason: "STOP" }],
    usageMetadata: {
      promptTokenCount: 30,
      candidatesTokenCount: 4,
      thoughtsTokenCount: 6,
      cachedContentTokenCount: 10,
    },
  };
  assert.deepEqual(usageOfJson(enc.encode(JSON.stringify(body))), {
    inputTokens: 30,
    outputTokens: 10,
    cacheReadTokens: 10,
  });
  let seen: unknown = null;
  const text = `data: ${JSON.stringify(body)}\r\n\r\n`;
  const out = tapSseUsage(ReadableStream.from([enc.encode(text)]), (u) => (seen = u));
  assert.equal(await new Response(out).text(), text);
  assert.deepEqual(seen, { inputTokens: 30, outputTokens: 10, cacheReadTokens: 10 });
});
