import assert from "node:assert/strict";
import type { AnswerEvent, SseEvent } from "../../../src/protocol/events.ts";
import {
  anthropicErrorBody,
  anthropicErrorTypeForStatus,
  anthropicStopReasonToStopReason,
  AnthropicStreamDecoder,
  AnthropicStreamEncoder,
  decodeAnthropicJson,
  encodeAnthropicJson,
  stopReasonToAnthropic,
} from "../../../src/protocol/anthropic.ts";
import {
  encodeOpenAIChatJson,
  OpenAIChatStreamDecoder,
  OpenAIChatStreamEncoder,
} from "../../../src/protocol/openai_chat.ts";
import { decodeSse, encodeAll, normalize, parseSse, payloads, sseText } from "./_helpers.ts";

// Fixtures shaped like the Anthropic Messages API documentation examples.

const TEXT_JSON = {
  id: "msg_013Zva2CMHLNnXjNJJKqJ2EF",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-20250514",
  content: [{ type: "text", text: "Hello! How can I help you today?" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 25, output_tokens: 15 },
};

const THINKING = "The user wants the weather in San Francisco. I should call get_weather.";
const SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds";

const TOOL_JSON = {
  id: "msg_01Aq9w938a90dw8q",
  type: "message",
  role: "assistant",
  model: "claude-opus-4-20250514",
  content: [
    {
      type: "thinking",
      thinking: THINKING,
      signature: SIGNATURE,
    },
    { type: "text", text: "I'll check the current weather in San Francisco for you." },
    {
      type: "tool_use",
      id: "toolu_01A09q90qw90lq917835lq9",
      name: "get_weather",
      input: { location: "San Francisco, CA", unit: "celsius" },
    },
  ],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: {
    input_tokens: 472,
    output_tokens: 89,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 1024,
  },
};

const ev = (data: Record<string, unknown> & { type: string }) =>
  `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;

const messageStart = (body: typeof TEXT_JSON | typeof TOOL_JSON, usage: Record<string, number>) =>
  ev({
    type: "message_start",
    message: {
      id: body.id,
      type: "message",
      role: "assistant",
      model: body.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  });

/** The streamed form of TEXT_JSON. */
const TEXT_SSE = messageStart(TEXT_JSON, { input_tokens: 25, output_tokens: 1 }) +
  ev({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }) +
  ev({ type: "ping" }) +
  ["Hello", "! How can I", " help you today?"].map((text) =>
    ev({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })
  ).join("") +
  ev({ type: "content_block_stop", index: 0 }) +
  ev({
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: 15 },
  }) +
  ev({ type: "message_stop" });

/** The streamed form of TOOL_JSON: thinking (signed), text, then a tool_use block. */
const TOOL_SSE = messageStart(TOOL_JSON, {
  input_tokens: 472,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 1024,
  output_tokens: 2,
}) +
  ev({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }) +
  ev({ type: "ping" }) +
  ["The user wants the weather in San Francisco.", " I should call get_weather."].map((t) =>
    ev({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: t } })
  ).join("") +
  ev({
    type: "content_block_delta",
    index: 0,
    delta: { type: "signature_delta", signature: SIGNATURE },
  }) +
  ev({ type: "content_block_stop", index: 0 }) +
  ev({ type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }) +
  ["I'll check the current weather", " in San Francisco for you."].map((text) =>
    ev({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text } })
  ).join("") +
  ev({ type: "content_block_stop", index: 1 }) +
  ev({
    type: "content_block_start",
    index: 2,
    content_block: {
      type: "tool_use",
      id: "toolu_01A09q90qw90lq917835lq9",
      name: "get_weather",
      input: {},
    },
  }) +
  ["", '{"location": "San Fra', 'ncisco, CA", "unit": "celsius"}'].map((partial_json) =>
    ev({
      type: "content_block_delta",
      index: 2,
      delta: { type: "input_json_delta", partial_json },
    })
  ).join("") +
  ev({ type: "content_block_stop", index: 2 }) +
  ev({
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 89 },
  }) +
  ev({ type: "message_stop" });

const TOOL_EVENTS: AnswerEvent[] = [
  { type: "start", id: "msg_01Aq9w938a90dw8q", model: "claude-opus-4-20250514" },
  {
    type: "reasoning",
    text: THINKING,
    signature: SIGNATURE,
  },
  { type: "text", text: "I'll check the current weather in San Francisco for you." },
  { type: "tool_call", index: 0, id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather" },
  { type: "tool_args", index: 0, delta: '{"location":"San Francisco, CA","unit":"celsius"}' },
  {
    type: "usage",
    // inputTokens counts the whole prompt, cache reads included.
    usage: { inputTokens: 1496, outputTokens: 89, cacheReadTokens: 1024, cacheWriteTokens: 0 },
  },
  { type: "stop", reason: "tool_use", stopSequence: null },
];

Deno.test("decodeAnthropicJson: thinking, text and tool_use", () => {
  assert.deepEqual(decodeAnthropicJson(TOOL_JSON), TOOL_EVENTS);
});

Deno.test("JSON round trip: decode then encode gives the same body", () => {
  assert.deepEqual(encodeAnthropicJson(decodeAnthropicJson(TEXT_JSON)), TEXT_JSON);
  assert.deepEqual(encodeAnthropicJson(decodeAnthropicJson(TOOL_JSON)), TOOL_JSON);
});

Deno.test("stream decode equals JSON decode after merging deltas", () => {
  assert.deepEqual(
    normalize(decodeSse(new AnthropicStreamDecoder(), TEXT_SSE)),
    normalize(decodeAnthropicJson(TEXT_JSON)),
  );
  assert.deepEqual(normalize(decodeSse(new AnthropicStreamDecoder(), TOOL_SSE)), TOOL_EVENTS);
});

Deno.test("AnthropicStreamDecoder: event by event", () => {
  const d = new AnthropicStreamDecoder();
  const got = parseSse(TOOL_SSE).map((e) => d.decode(e));
  assert.deepEqual(got[0], [
    TOOL_EVENTS[0],
    {
      type: "usage",
      usage: { inputTokens: 1496, outputTokens: 2, cacheReadTokens: 1024, cacheWriteTokens: 0 },
    },
  ]);
  assert.deepEqual(got[2], []); // ping
  assert.deepEqual(got[5], [{
    type: "reasoning",
    text: "",
    signature: SIGNATURE,
  }]);
  assert.deepEqual(got[11], [TOOL_EVENTS[3]]);
  assert.deepEqual(got[12], []); // the empty input_json_delta
  assert.deepEqual(got.at(-2), [{ type: "usage", usage: { outputTokens: 89 } }]);
  assert.deepEqual(got.at(-1), [TOOL_EVENTS.at(-1)]);
  assert.deepEqual(d.finish(), []);
});

Deno.test("AnthropicStreamDecoder: repeated input usage in message_delta keeps cache counts", () => {
  const d = new AnthropicStreamDecoder();
  parseSse(TOOL_SSE).slice(0, 3).forEach((e) => d.decode(e));
  const got = d.decode({
    event: "message_delta",
    data: JSON.stringify({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { input_tokens: 500, cache_read_input_tokens: null, output_tokens: 7 },
    }),
  });
  assert.deepEqual(got, [{
    type: "usage",
    usage: { outputTokens: 7, inputTokens: 1524, cacheReadTokens: 1024, cacheWriteTokens: 0 },
  }]);
});

Deno.test("AnthropicStreamDecoder: error event throws; finish() emits a held stop", () => {
  const d = new AnthropicStreamDecoder();
  const error = {
    event: "error",
    data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
  };
  assert.throws(() => d.decode(error), /overloaded_error: Overloaded/);
  const cut = TEXT_SSE.slice(0, TEXT_SSE.indexOf("event: message_stop"));
  const events = decodeSse(new AnthropicStreamDecoder(), cut);
  assert.deepEqual(events.at(-1), { type: "stop", reason: "end_turn", stopSequence: null });
  const early = decodeSse(
    new AnthropicStreamDecoder(),
    TEXT_SSE.slice(0, TEXT_SSE.indexOf("event: message_delta")),
  );
  assert.equal(early.some((e) => e.type === "stop"), false);
});

Deno.test("SSE round trip: decode then encode reproduces Anthropic's events", () => {
  for (const fixture of [TEXT_SSE, TOOL_SSE]) {
    const original = parseSse(fixture);
    const encoded = encodeAll(
      new AnthropicStreamEncoder(),
      decodeSse(new AnthropicStreamDecoder(), fixture),
    );
    assert.deepEqual(encoded.map((e) => e.event), original.map((e) => e.event));
    assert.deepEqual(payloads(encoded), payloads(original));
    for (const e of encoded) assert.equal(JSON.parse(e.data).type, e.event);
  }
});

Deno.test("AnthropicStreamEncoder: usage learned late goes into message_delta", () => {
  const out = payloads(encodeAll(new AnthropicStreamEncoder(), [
    { type: "start", id: "chatcmpl-1", model: "gpt-4o", created: 1 },
    { type: "text", text: "Hi" },
    { type: "usage", usage: { inputTokens: 100, outputTokens: 5, cacheReadTokens: 60 } },
    { type: "stop", reason: "end_turn" },
  ]));
  assert.deepEqual((out[0].message as Record<string, unknown>).usage, {
    input_tokens: 0,
    output_tokens: 0,
  });
  assert.deepEqual(out.at(-2), {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { input_tokens: 40, cache_read_input_tokens: 60, output_tokens: 5 },
  });
});

Deno.test("AnthropicStreamEncoder: block indexes, kind changes and late tool args", () => {
  const events: AnswerEvent[] = [
    { type: "text", text: "A" },
    { type: "tool_call", index: 0, id: "call_1", name: "f" },
    { type: "tool_call", index: 1, id: "call_2", name: "g" },
    { type: "tool_args", index: 0, delta: "{}" },
    { type: "tool_args", index: 1, delta: '{"x":1}' },
    { type: "stop", reason: "content_filter" },
  ];
  const out: SseEvent[] = encodeAll(new AnthropicStreamEncoder(), events);
  const p = payloads(out);
  assert.equal((p[0].message as Record<string, unknown>).id?.toString().startsWith("msg_"), true);
  const starts = p.filter((x) => x.type === "content_block_start").map((x) => x.index);
  const stops = p.filter((x) => x.type === "content_block_stop").map((x) => x.index);
  assert.deepEqual(starts, [0, 1, 2]);
  assert.deepEqual(stops, [0, 1, 2]);
  const args = p.filter((x) => (x.delta as Record<string, unknown>)?.type === "input_json_delta")
    .map((x) => [x.index, (x.delta as Record<string, unknown>).partial_json]);
  assert.deepEqual(args, [[1, ""], [2, ""], [1, "{}"], [2, '{"x":1}']]);
  assert.deepEqual((p.at(-2)?.delta as Record<string, unknown>).stop_reason, "refusal");
  assert.equal(p.at(-1)?.type, "message_stop");
  assert.deepEqual(
    new AnthropicStreamEncoder().encode({ type: "text", text: "" }).map((e) => e.event),
    [
      "message_start",
    ],
  );
});

Deno.test("encodeAnthropicJson: blocks in order, unparseable tool input becomes {}", () => {
  const body = encodeAnthropicJson([
    { type: "start", id: "x", model: "m" },
    { type: "text", text: "a" },
    { type: "text", text: "b" },
    { type: "tool_call", index: 0, id: "t", name: "f" },
    { type: "tool_args", index: 0, delta: "{not json" },
    { type: "text", text: "c" },
  ]);
  assert.deepEqual(body.content, [
    { type: "text", text: "ab" },
    { type: "tool_use", id: "t", name: "f", input: {} },
    { type: "text", text: "c" },
  ]);
  assert.equal(body.stop_reason, "tool_use");
  assert.deepEqual(body.usage, { input_tokens: 0, output_tokens: 0 });
});

Deno.test("cross-protocol: Anthropic JSON → OpenAI JSON", () => {
  const body = encodeOpenAIChatJson(decodeAnthropicJson(TOOL_JSON));
  const { created, ...rest } = body;
  assert.equal(typeof created, "number");
  assert.deepEqual(rest, {
    id: "msg_01Aq9w938a90dw8q",
    object: "chat.completion",
    model: "claude-opus-4-20250514",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "I'll check the current weather in San Francisco for you.",
        reasoning_content: THINKING,
        tool_calls: [{
          id: "toolu_01A09q90qw90lq917835lq9",
          type: "function",
          function: {
            name: "get_weather",
            arguments: '{"location":"San Francisco, CA","unit":"celsius"}',
          },
        }],
        refusal: null,
      },
      logprobs: null,
      finish_reason: "tool_calls",
    }],
    usage: {
      prompt_tokens: 1496,
      completion_tokens: 89,
      total_tokens: 1585,
      prompt_tokens_details: { cached_tokens: 1024 },
    },
  });
});

Deno.test("cross-protocol: Anthropic stream → OpenAI stream carries the same answer", () => {
  const events = decodeSse(new AnthropicStreamDecoder(), TOOL_SSE);
  const openai = encodeAll(new OpenAIChatStreamEncoder({ includeUsage: true }), events);
  const back = normalize(decodeSse(new OpenAIChatStreamDecoder(), sseText(openai)));
  assert.deepEqual(back.slice(1), [
    { type: "reasoning", text: THINKING },
    TOOL_EVENTS[2],
    TOOL_EVENTS[3],
    TOOL_EVENTS[4],
    { type: "usage", usage: { inputTokens: 1496, outputTokens: 89, cacheReadTokens: 1024 } },
    { type: "stop", reason: "tool_use" },
  ]);
});

Deno.test("stop reason mapping both ways", () => {
  assert.equal(anthropicStopReasonToStopReason("pause_turn"), "pause_turn");
  assert.equal(anthropicStopReasonToStopReason("model_context_window_exceeded"), "max_tokens");
  assert.equal(anthropicStopReasonToStopReason("something_new"), "end_turn");
  assert.equal(anthropicStopReasonToStopReason(null), "end_turn");
  assert.equal(stopReasonToAnthropic("content_filter"), "refusal");
  assert.equal(stopReasonToAnthropic("stop_sequence"), "stop_sequence");
});

Deno.test("anthropic error helpers", () => {
  assert.deepEqual(anthropicErrorBody("rate_limit_error", "Slow down"), {
    type: "error",
    error: { type: "rate_limit_error", message: "Slow down" },
  });
  const cases: [number, string][] = [
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [413, "request_too_large"],
    [429, "rate_limit_error"],
    [529, "overloaded_error"],
    [500, "api_error"],
    [502, "api_error"],
    [422, "invalid_request_error"],
  ];
  for (const [status, type] of cases) assert.equal(anthropicErrorTypeForStatus(status), type);
});
