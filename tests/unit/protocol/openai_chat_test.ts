import assert from "node:assert/strict";
import type { AnswerEvent } from "../../../src/protocol/events.ts";
import {
  decodeOpenAIChatJson,
  encodeOpenAIChatJson,
  OpenAIChatStreamDecoder,
  OpenAIChatStreamEncoder,
  openAIErrorBody,
  openAIFinishToStopReason,
  stopReasonToOpenAIFinish,
} from "../../../src/protocol/openai_chat.ts";
import {
  AnthropicStreamDecoder,
  AnthropicStreamEncoder,
  encodeAnthropicJson,
} from "../../../src/protocol/anthropic.ts";
import {
  decodeSse,
  encodeAll,
  normalize,
  omitKeys,
  parseSse,
  payloads,
  sseText,
  without,
} from "./_helpers.ts";

// Fixtures shaped like the OpenAI API reference examples (Chat Completions).

const TEXT_JSON = {
  id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  object: "chat.completion",
  created: 1741569952,
  model: "gpt-4.1-2025-04-14",
  choices: [{
    index: 0,
    message: {
      role: "assistant",
      content: "Hello! How can I assist you today?",
      refusal: null,
      annotations: [],
    },
    logprobs: null,
    finish_reason: "stop",
  }],
  usage: {
    prompt_tokens: 19,
    completion_tokens: 10,
    total_tokens: 29,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  },
  service_tier: "default",
  system_fingerprint: "fp_3f58d112f7",
};

const TOOL_JSON = {
  id: "chatcmpl-9x3sqyHb9W4XzkDrWwgPxCW0EbHgK",
  object: "chat.completion",
  created: 1723026842,
  model: "gpt-4o-2024-08-06",
  choices: [{
    index: 0,
    message: {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
        type: "function",
        function: { name: "get_weather", arguments: '{"location":"Paris, France"}' },
      }],
      refusal: null,
    },
    logprobs: null,
    finish_reason: "tool_calls",
  }],
  usage: {
    prompt_tokens: 2048,
    completion_tokens: 17,
    total_tokens: 2065,
    prompt_tokens_details: { cached_tokens: 1024 },
  },
  system_fingerprint: "fp_845eaabc1f",
};

const chunk = (id: string, created: number, model: string, rest: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, ...rest })}\n\n`;

/** The streamed form of TEXT_JSON, without `stream_options.include_usage`. */
const TEXT_SSE = (() => {
  const c = (delta: Record<string, unknown>, finish: string | null = null) =>
    chunk(TEXT_JSON.id, TEXT_JSON.created, TEXT_JSON.model, {
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  return c({ role: "assistant", content: "" }) +
    ["Hello", "!", " How", " can", " I", " assist", " you", " today", "?"]
      .map((t) => c({ content: t })).join("") +
    c({}, "stop") +
    "data: [DONE]\n\n";
})();

/** The streamed form of TOOL_JSON, with `include_usage` (usage: null on each chunk, then a usage chunk). */
const TOOL_SSE = (() => {
  const c = (delta: Record<string, unknown>, finish: string | null = null) =>
    chunk(TOOL_JSON.id, TOOL_JSON.created, TOOL_JSON.model, {
      system_fingerprint: "fp_845eaabc1f",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      usage: null,
    });
  const args = (a: string) => c({ tool_calls: [{ index: 0, function: { arguments: a } }] });
  return c({
    role: "assistant",
    content: null,
    tool_calls: [{
      index: 0,
      id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
      type: "function",
      function: { name: "get_weather", arguments: "" },
    }],
    refusal: null,
  }) +
    ['{"', "location", '":"', "Paris", ",", " France", '"}'].map(args).join("") +
    c({}, "tool_calls") +
    chunk(TOOL_JSON.id, TOOL_JSON.created, TOOL_JSON.model, {
      system_fingerprint: "fp_845eaabc1f",
      choices: [],
      usage: TOOL_JSON.usage,
    }) +
    "data: [DONE]\n\n";
})();

const TOOL_EVENTS: AnswerEvent[] = [
  { type: "start", id: TOOL_JSON.id, model: "gpt-4o-2024-08-06", created: 1723026842 },
  { type: "tool_call", index: 0, id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", name: "get_weather" },
  { type: "tool_args", index: 0, delta: '{"location":"Paris, France"}' },
  { type: "usage", usage: { inputTokens: 2048, outputTokens: 17, cacheReadTokens: 1024 } },
  { type: "stop", reason: "tool_use" },
];

/** What encodeOpenAIChatJson can reproduce of a body (the fields it owns). */
function projection(body: typeof TEXT_JSON | typeof TOOL_JSON) {
  const c = body.choices[0];
  return {
    id: body.id,
    object: body.object,
    created: body.created,
    model: body.model,
    choices: [{
      index: 0,
      message: { ...omitKeys(c.message, "annotations") },
      logprobs: null,
      finish_reason: c.finish_reason,
    }],
    usage: {
      prompt_tokens: body.usage.prompt_tokens,
      completion_tokens: body.usage.completion_tokens,
      total_tokens: body.usage.total_tokens,
      prompt_tokens_details: { cached_tokens: body.usage.prompt_tokens_details.cached_tokens },
    },
  };
}

Deno.test("decodeOpenAIChatJson: text answer", () => {
  assert.deepEqual(decodeOpenAIChatJson(TEXT_JSON), [
    { type: "start", id: TEXT_JSON.id, model: "gpt-4.1-2025-04-14", created: 1741569952 },
    { type: "text", text: "Hello! How can I assist you today?" },
    { type: "usage", usage: { inputTokens: 19, outputTokens: 10, cacheReadTokens: 0 } },
    { type: "stop", reason: "end_turn" },
  ]);
});

Deno.test("decodeOpenAIChatJson: tool-call answer", () => {
  assert.deepEqual(decodeOpenAIChatJson(TOOL_JSON), TOOL_EVENTS);
});

Deno.test("decodeOpenAIChatJson: reasoning_content comes before the text", () => {
  const body = structuredClone(TEXT_JSON) as Record<string, unknown>;
  (body.choices as { message: Record<string, unknown> }[])[0].message.reasoning_content = "Hmm.";
  assert.deepEqual(decodeOpenAIChatJson(body).slice(1, 3), [
    { type: "reasoning", text: "Hmm." },
    { type: "text", text: "Hello! How can I assist you today?" },
  ]);
});

Deno.test("JSON round trip: decode then encode gives an equivalent body", () => {
  for (const body of [TEXT_JSON, TOOL_JSON]) {
    assert.deepEqual(encodeOpenAIChatJson(decodeOpenAIChatJson(body)), projection(body));
  }
});

Deno.test("OpenAIChatStreamDecoder: streamed tool call with usage", () => {
  const got = decodeSse(new OpenAIChatStreamDecoder(), TOOL_SSE);
  assert.deepEqual(got.slice(0, 3), [
    ...TOOL_EVENTS.slice(0, 2),
    { type: "tool_args", index: 0, delta: '{"' },
  ]);
  assert.equal(got.filter((e) => e.type === "tool_args").length, 7);
  assert.deepEqual(got.slice(-2), TOOL_EVENTS.slice(-2));
});

Deno.test("stream decode equals JSON decode after merging deltas", () => {
  assert.deepEqual(
    normalize(decodeSse(new OpenAIChatStreamDecoder(), TOOL_SSE)),
    normalize(decodeOpenAIChatJson(TOOL_JSON)),
  );
  // The text stream was requested without usage.
  assert.deepEqual(
    normalize(decodeSse(new OpenAIChatStreamDecoder(), TEXT_SSE)),
    without(normalize(decodeOpenAIChatJson(TEXT_JSON)), "usage"),
  );
});

Deno.test("OpenAIChatStreamDecoder holds stop until [DONE], with usage before it", () => {
  const d = new OpenAIChatStreamDecoder();
  const events = parseSse(TOOL_SSE);
  const finishAt = events.findIndex((e) => e.data.includes('"finish_reason":"tool_calls"'));
  const before = events.slice(0, finishAt + 1).flatMap((e) => d.decode(e));
  assert.equal(before.some((e) => e.type === "stop"), false);
  assert.deepEqual(d.decode(events[finishAt + 1]), [TOOL_EVENTS[3]]);
  assert.equal(d.done, false);
  assert.deepEqual(d.decode(events[finishAt + 2]), [TOOL_EVENTS[4]]);
  assert.equal(d.done, true);
  assert.deepEqual(d.finish(), []);
  assert.deepEqual(d.decode({ data: "[DONE]" }), []);
});

Deno.test("OpenAIChatStreamDecoder.finish emits stop only if a finish_reason was seen", () => {
  const noDone = TEXT_SSE.replace("data: [DONE]\n\n", "");
  const events = decodeSse(new OpenAIChatStreamDecoder(), noDone);
  assert.deepEqual(events.at(-1), { type: "stop", reason: "end_turn" });
  const cut = TEXT_SSE.slice(0, TEXT_SSE.indexOf('"finish_reason":"stop"'));
  const truncated = decodeSse(
    new OpenAIChatStreamDecoder(),
    cut.slice(0, cut.lastIndexOf("data:")),
  );
  assert.equal(truncated.some((e) => e.type === "stop"), false);
});

Deno.test("OpenAIChatStreamDecoder throws on an error object", () => {
  const d = new OpenAIChatStreamDecoder();
  assert.throws(
    () => d.decode({ data: '{"error":{"message":"boom","type":"server_error"}}' }),
    /boom/,
  );
});

Deno.test("OpenAIChatStreamDecoder: parallel tool calls follow the upstream index", () => {
  const d = new OpenAIChatStreamDecoder();
  const c = (tc: unknown) => ({
    data: JSON.stringify({
      id: "x",
      model: "m",
      choices: [{ index: 0, delta: { tool_calls: [tc] } }],
    }),
  });
  const got = [
    c({ index: 0, id: "call_a", type: "function", function: { name: "a", arguments: "" } }),
    c({ index: 0, function: { arguments: "{}" } }),
    c({ index: 1, id: "call_b", type: "function", function: { name: "b", arguments: '{"x":1}' } }),
    c({ index: 1, id: "call_b", function: { arguments: "" } }),
  ].flatMap((e) => d.decode(e));
  assert.deepEqual(got.slice(1), [
    { type: "tool_call", index: 0, id: "call_a", name: "a" },
    { type: "tool_args", index: 0, delta: "{}" },
    { type: "tool_call", index: 1, id: "call_b", name: "b" },
    { type: "tool_args", index: 1, delta: '{"x":1}' },
  ]);
});

Deno.test("SSE round trip: decode then encode reproduces OpenAI's chunks", () => {
  const events = decodeSse(new OpenAIChatStreamDecoder(), TEXT_SSE);
  const encoded = encodeAll(new OpenAIChatStreamEncoder({ includeUsage: false }), events);
  assert.deepEqual(encoded, parseSse(TEXT_SSE));
});

Deno.test("SSE round trip: streamed tool call with usage", () => {
  const events = decodeSse(new OpenAIChatStreamDecoder(), TOOL_SSE);
  const encoded = encodeAll(new OpenAIChatStreamEncoder({ includeUsage: true }), events);
  // Same answer when decoded again.
  assert.deepEqual(decodeSse(new OpenAIChatStreamDecoder(), sseText(encoded)), events);
  const bodies = payloads(encoded);
  const kinds = bodies.map((b) => {
    const choice = (b.choices as Record<string, unknown>[])[0];
    if (!choice) return "usage";
    if (choice.finish_reason) return `finish:${choice.finish_reason}`;
    const delta = choice.delta as Record<string, unknown>;
    return delta.role ? "role" : delta.tool_calls ? "tool" : "content";
  });
  assert.deepEqual(kinds, ["role", "tool", ...Array(7).fill("tool"), "finish:tool_calls", "usage"]);
  assert.equal(encoded.at(-1)?.data, "[DONE]");
  assert.deepEqual(
    bodies.at(-1),
    omitKeys(
      parseSse(TOOL_SSE).slice(-2, -1).map((e) => JSON.parse(e.data))[0],
      "system_fingerprint",
    ),
  );
  for (const b of bodies) {
    assert.equal(b.id, TOOL_JSON.id);
    assert.equal(b.created, TOOL_JSON.created);
    assert.equal(b.model, TOOL_JSON.model);
    assert.equal(b.object, "chat.completion.chunk");
  }
  assert.deepEqual(
    (bodies[1].choices as { delta: unknown }[])[0].delta,
    {
      tool_calls: [{
        index: 0,
        id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
        type: "function",
        function: { name: "get_weather", arguments: "" },
      }],
    },
  );
});

Deno.test("OpenAIChatStreamEncoder buffers early usage until after the finish chunk", () => {
  const enc = new OpenAIChatStreamEncoder({ includeUsage: true });
  const out = encodeAll(enc, [
    { type: "start", id: "msg_1", model: "claude-x" },
    { type: "usage", usage: { inputTokens: 10 } },
    { type: "text", text: "Hi" },
    { type: "usage", usage: { outputTokens: 3 } },
    { type: "stop", reason: "max_tokens" },
    { type: "text", text: "ignored after stop" },
  ]);
  const bodies = payloads(out);
  assert.equal(bodies.length, 4);
  assert.deepEqual((bodies[2].choices as unknown[])[0], {
    index: 0,
    delta: {},
    logprobs: null,
    finish_reason: "length",
  });
  assert.deepEqual(bodies[3].choices, []);
  assert.deepEqual(bodies[3].usage, {
    prompt_tokens: 10,
    completion_tokens: 3,
    total_tokens: 13,
    prompt_tokens_details: { cached_tokens: 0 },
  });
  assert.equal(out.at(-1)?.data, "[DONE]");
  assert.equal(typeof bodies[0].created, "number");
});

Deno.test("OpenAIChatStreamEncoder without include_usage sends no usage chunk", () => {
  const out = encodeAll(new OpenAIChatStreamEncoder({ includeUsage: false }), TOOL_EVENTS);
  const bodies = payloads(out);
  assert.equal(bodies.some((b) => "usage" in b), false);
  assert.deepEqual(out.map((e) => e.event), out.map(() => undefined));
});

Deno.test("encodeOpenAIChatJson: content null only when there are tool calls", () => {
  const body = encodeOpenAIChatJson([
    { type: "start", id: "a", model: "m", created: 1 },
    { type: "reasoning", text: "think" },
    { type: "text", text: "Hel" },
    { type: "text", text: "lo" },
    { type: "stop", reason: "end_turn" },
  ]);
  assert.deepEqual(body.choices, [{
    index: 0,
    message: { role: "assistant", content: "Hello", reasoning_content: "think", refusal: null },
    logprobs: null,
    finish_reason: "stop",
  }]);
  assert.equal("usage" in body, false);
});

Deno.test("cross-protocol: OpenAI JSON → Anthropic JSON", () => {
  const msg = encodeAnthropicJson(decodeOpenAIChatJson(TOOL_JSON));
  assert.deepEqual(msg, {
    id: TOOL_JSON.id,
    type: "message",
    role: "assistant",
    model: "gpt-4o-2024-08-06",
    content: [{
      type: "tool_use",
      id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
      name: "get_weather",
      input: { location: "Paris, France" },
    }],
    stop_reason: "tool_use",
    stop_sequence: null,
    // Anthropic counts cache reads apart from input_tokens.
    usage: { input_tokens: 1024, output_tokens: 17, cache_read_input_tokens: 1024 },
  });
});

Deno.test("cross-protocol: OpenAI stream → Anthropic stream carries the same answer", () => {
  const events = decodeSse(new OpenAIChatStreamDecoder(), TOOL_SSE);
  const anthropic = encodeAll(new AnthropicStreamEncoder(), events);
  assert.deepEqual(anthropic.map((e) => e.event), [
    "message_start",
    "content_block_start",
    "ping",
    ...Array(8).fill("content_block_delta"),
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
  const back = decodeSse(new AnthropicStreamDecoder(), sseText(anthropic));
  assert.deepEqual(
    normalize(back),
    // Anthropic has no `created`, and always states the stop sequence.
    normalize(events).map((e) =>
      e.type === "stop"
        ? { ...e, stopSequence: null }
        : e.type === "start"
        ? { type: "start", id: e.id, model: e.model }
        : e
    ),
  );
});

Deno.test("finish_reason mapping both ways", () => {
  assert.equal(openAIFinishToStopReason("stop"), "end_turn");
  assert.equal(openAIFinishToStopReason("length"), "max_tokens");
  assert.equal(openAIFinishToStopReason("tool_calls"), "tool_use");
  assert.equal(openAIFinishToStopReason("function_call"), "tool_use");
  assert.equal(openAIFinishToStopReason("content_filter"), "content_filter");
  assert.equal(openAIFinishToStopReason(null), "end_turn");
  assert.equal(stopReasonToOpenAIFinish("end_turn"), "stop");
  assert.equal(stopReasonToOpenAIFinish("stop_sequence"), "stop");
  assert.equal(stopReasonToOpenAIFinish("max_tokens"), "length");
  assert.equal(stopReasonToOpenAIFinish("tool_use"), "tool_calls");
  assert.equal(stopReasonToOpenAIFinish("refusal"), "content_filter");
});

Deno.test("openAIErrorBody", () => {
  assert.deepEqual(openAIErrorBody("Bad key", "invalid_request_error", "invalid_api_key"), {
    error: {
      message: "Bad key",
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    },
  });
  assert.deepEqual(openAIErrorBody("x", "server_error"), {
    error: { message: "x", type: "server_error", param: null, code: null },
  });
});
