import assert from "node:assert/strict";
import type { AnswerEvent } from "../../../src/protocol/events.ts";
import {
  decodeResponsesJson,
  encodeResponsesJson,
  responsesStopReason,
  ResponsesStreamDecoder,
  ResponsesStreamEncoder,
  stopReasonToResponsesStatus,
} from "../../../src/protocol/openai_responses.ts";
import {
  AnthropicStreamDecoder,
  decodeAnthropicJson,
  encodeAnthropicJson,
} from "../../../src/protocol/anthropic.ts";
import {
  decodeSse,
  encodeAll,
  normalize,
  parseSse,
  payloads,
  sseText,
  without,
} from "./_helpers.ts";

// Fixtures shaped like the OpenAI Responses API reference examples.

type Json = Record<string, unknown>;

const RESPONSE_ECHO = {
  instructions: null,
  max_output_tokens: null,
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  store: true,
  temperature: 1.0,
  text: { format: { type: "text" } },
  tool_choice: "auto",
  tools: [],
  top_p: 1.0,
  truncation: "disabled",
  user: null,
  metadata: {},
};

const TEXT_JSON = {
  id: "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
  object: "response",
  created_at: 1741476542,
  status: "completed",
  error: null,
  incomplete_details: null,
  model: "gpt-4.1-2025-04-14",
  output: [{
    type: "message",
    id: "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
    status: "completed",
    role: "assistant",
    content: [{
      type: "output_text",
      text:
        "In a peaceful grove beneath a silver moon, a unicorn named Lumina discovered a hidden pool.",
      annotations: [],
    }],
  }],
  ...RESPONSE_ECHO,
  usage: {
    input_tokens: 36,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 87,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 123,
  },
};

const TOOL_JSON = {
  id: "resp_67ca09c5efe0819096d0511c92b8c890096610f474011cc0",
  object: "response",
  created_at: 1741294021,
  status: "completed",
  error: null,
  incomplete_details: null,
  model: "gpt-4.1-2025-04-14",
  output: [{
    type: "function_call",
    id: "fc_67ca09c6bedc8190a7abfec07b1a1332096610f474011cc0",
    call_id: "call_unLAR8MvFNptuiZK6K6HCy5k",
    name: "get_current_weather",
    arguments: '{"location":"Boston, MA","unit":"celsius"}',
    status: "completed",
  }],
  ...RESPONSE_ECHO,
  usage: {
    input_tokens: 291,
    input_tokens_details: { cached_tokens: 128 },
    output_tokens: 23,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 314,
  },
};

/** A streamed answer built from event bodies (sequence numbers added in order). */
function stream(events: Json[]): string {
  return events.map((e, i) => {
    const data = { type: e.type, sequence_number: i, ...e };
    return `event: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`;
  }).join("");
}

function lifecycle(body: typeof TEXT_JSON | typeof TOOL_JSON, items: Json[]): string {
  const pending = { ...body, status: "in_progress", output: [], usage: null };
  return stream([
    { type: "response.created", response: pending },
    { type: "response.in_progress", response: pending },
    ...items,
    { type: "response.completed", response: body },
  ]);
}

/** The streamed form of TEXT_JSON. */
const TEXT_SSE = (() => {
  const item = TEXT_JSON.output[0];
  const at = { item_id: item.id, output_index: 0, content_index: 0 };
  const text = item.content[0].text;
  const pieces = [text.slice(0, 20), text.slice(20, 50), text.slice(50)];
  return lifecycle(TEXT_JSON, [
    {
      type: "response.output_item.added",
      output_index: 0,
      item: { ...item, status: "in_progress", content: [] },
    },
    {
      type: "response.content_part.added",
      ...at,
      part: { type: "output_text", text: "", annotations: [] },
    },
    ...pieces.map((delta) => ({ type: "response.output_text.delta", ...at, delta, logprobs: [] })),
    { type: "response.output_text.done", ...at, text, logprobs: [] },
    { type: "response.content_part.done", ...at, part: item.content[0] },
    { type: "response.output_item.done", output_index: 0, item },
  ]);
})();

/** The streamed form of TOOL_JSON. */
const TOOL_SSE = (() => {
  const item = TOOL_JSON.output[0];
  const at = { item_id: item.id, output_index: 0 };
  return lifecycle(TOOL_JSON, [
    {
      type: "response.output_item.added",
      output_index: 0,
      item: { ...item, arguments: "", status: "in_progress" },
    },
    ...['{"location":', '"Boston, MA",', '"unit":"celsius"}'].map((delta) => ({
      type: "response.function_call_arguments.delta",
      ...at,
      delta,
    })),
    { type: "response.function_call_arguments.done", ...at, arguments: item.arguments },
    { type: "response.output_item.done", output_index: 0, item },
  ]);
})();

const TOOL_EVENTS: AnswerEvent[] = [
  { type: "start", id: TOOL_JSON.id, model: "gpt-4.1-2025-04-14", created: 1741294021 },
  { type: "tool_call", index: 0, id: "call_unLAR8MvFNptuiZK6K6HCy5k", name: "get_current_weather" },
  { type: "tool_args", index: 0, delta: '{"location":"Boston, MA","unit":"celsius"}' },
  { type: "usage", usage: { inputTokens: 291, outputTokens: 23, cacheReadTokens: 128 } },
  { type: "stop", reason: "tool_use" },
];

/** What encodeResponsesJson reproduces of a response: answer fields, item ids aside. */
function answerFields(body: Json): Json {
  const output = (body.output as Json[]).map(({ id: _id, ...item }) => item);
  const { id, object, created_at, status, error, incomplete_details, model, usage } = body;
  return { id, object, created_at, status, error, incomplete_details, model, output, usage };
}

Deno.test("decodeResponsesJson: text and function call answers", () => {
  assert.deepEqual(decodeResponsesJson(TEXT_JSON), [
    { type: "start", id: TEXT_JSON.id, model: "gpt-4.1-2025-04-14", created: 1741476542 },
    { type: "text", text: TEXT_JSON.output[0].content[0].text },
    { type: "usage", usage: { inputTokens: 36, outputTokens: 87, cacheReadTokens: 0 } },
    { type: "stop", reason: "end_turn" },
  ]);
  assert.deepEqual(decodeResponsesJson(TOOL_JSON), TOOL_EVENTS);
});

Deno.test("JSON round trip: decode then encode gives an equivalent response", () => {
  for (const body of [TEXT_JSON, TOOL_JSON]) {
    const encoded = encodeResponsesJson(decodeResponsesJson(body));
    assert.deepEqual(answerFields(encoded), answerFields(body));
    const ids = (encoded.output as Json[]).map((i) => String(i.id));
    assert.ok(ids.every((id) => /^(msg|fc)_/.test(id)));
  }
});

Deno.test("stream decode equals JSON decode after merging deltas", () => {
  assert.deepEqual(
    normalize(decodeSse(new ResponsesStreamDecoder(), TEXT_SSE)),
    normalize(decodeResponsesJson(TEXT_JSON)),
  );
  assert.deepEqual(normalize(decodeSse(new ResponsesStreamDecoder(), TOOL_SSE)), TOOL_EVENTS);
});

Deno.test("SSE round trip: decode then encode reproduces the same event types in order", () => {
  for (const fixture of [TEXT_SSE, TOOL_SSE]) {
    const original = parseSse(fixture);
    const encoded = encodeAll(
      new ResponsesStreamEncoder(),
      decodeSse(new ResponsesStreamDecoder(), fixture),
    );
    assert.deepEqual(encoded.map((e) => e.event), original.map((e) => e.event));
    const bodies = payloads(encoded);
    assert.deepEqual(bodies.map((b) => b.sequence_number), bodies.map((_, i) => i));
    for (const e of encoded) assert.equal(JSON.parse(e.data).type, e.event);
    const last = bodies.at(-1)?.response as Json;
    const expected = payloads(original).at(-1)?.response as Json;
    assert.deepEqual(answerFields(last), answerFields(expected));
    // The same answer when decoded again.
    assert.deepEqual(
      decodeSse(new ResponsesStreamDecoder(), sseText(encoded)),
      decodeSse(new ResponsesStreamDecoder(), fixture),
    );
  }
});

Deno.test("ResponsesStreamEncoder: items carry consistent ids and indexes", () => {
  const out = payloads(encodeAll(new ResponsesStreamEncoder(), [
    { type: "start", id: "msg_x", model: "claude", created: 5 },
    { type: "reasoning", text: "Let me think." },
    { type: "reasoning", text: "", signature: "sig" },
    { type: "text", text: "Calling." },
    { type: "tool_call", index: 0, id: "toolu_1", name: "f" },
    { type: "tool_args", index: 0, delta: '{"a":1}' },
    { type: "usage", usage: { inputTokens: 10, outputTokens: 2 } },
    { type: "stop", reason: "tool_use" },
  ]));
  const added = out.filter((b) => b.type === "response.output_item.added");
  assert.deepEqual(added.map((b) => [b.output_index, (b.item as Json).type]), [
    [0, "reasoning"],
    [1, "message"],
    [2, "function_call"],
  ]);
  const final = out.at(-1)?.response as Json;
  assert.equal(out.at(-1)?.type, "response.completed");
  assert.deepEqual((final.output as Json[]).map(({ id: _id, ...i }) => i), [
    { type: "reasoning", summary: [{ type: "summary_text", text: "Let me think." }] },
    {
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Calling.", annotations: [] }],
    },
    {
      type: "function_call",
      status: "completed",
      arguments: '{"a":1}',
      call_id: "toolu_1",
      name: "f",
    },
  ]);
  for (const b of out.filter((b) => typeof b.item_id === "string")) {
    assert.equal(b.item_id, (final.output as Json[])[b.output_index as number].id);
  }
  assert.deepEqual(final.usage, {
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 2,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 12,
  });
});

Deno.test("max_tokens maps to an incomplete response, both ways", () => {
  const events: AnswerEvent[] = [
    { type: "start", id: "resp_1", model: "m", created: 1 },
    { type: "text", text: "Once upon" },
    { type: "stop", reason: "max_tokens" },
  ];
  const body = encodeResponsesJson(events);
  assert.equal(body.status, "incomplete");
  assert.deepEqual(body.incomplete_details, { reason: "max_output_tokens" });
  assert.deepEqual(decodeResponsesJson(body).at(-1), { type: "stop", reason: "max_tokens" });
  const sse = encodeAll(new ResponsesStreamEncoder(), events);
  assert.equal(sse.at(-1)?.event, "response.incomplete");
  assert.deepEqual(decodeSse(new ResponsesStreamDecoder(), sseText(sse)), events);
});

Deno.test("ResponsesStreamDecoder throws on response.failed and error events", () => {
  const failed = {
    event: "response.failed",
    data: JSON.stringify({
      type: "response.failed",
      sequence_number: 3,
      response: {
        id: "resp_1",
        status: "failed",
        error: { code: "server_error", message: "oops" },
      },
    }),
  };
  assert.throws(() => new ResponsesStreamDecoder().decode(failed), /oops/);
  const error = {
    event: "error",
    data:
      '{"type":"error","sequence_number":1,"code":"rate_limit_exceeded","message":"slow","param":null}',
  };
  assert.throws(() => new ResponsesStreamDecoder().decode(error), /slow/);
});

Deno.test("ResponsesStreamDecoder uses the done arguments when no deltas came", () => {
  const sse = TOOL_SSE.split("\n\n").filter((e) => !e.includes("function_call_arguments.delta"))
    .join("\n\n");
  assert.deepEqual(decodeSse(new ResponsesStreamDecoder(), sse), TOOL_EVENTS);
});

Deno.test("stop mapping helpers", () => {
  assert.equal(responsesStopReason({ status: "completed" }, false), "end_turn");
  assert.equal(responsesStopReason({ status: "completed" }, true), "tool_use");
  assert.equal(
    responsesStopReason(
      { status: "incomplete", incomplete_details: { reason: "content_filter" } },
      false,
    ),
    "content_filter",
  );
  assert.deepEqual(stopReasonToResponsesStatus("end_turn"), {
    status: "completed",
    incomplete_details: null,
  });
});

Deno.test("cross-protocol: Responses JSON → Anthropic JSON and back", () => {
  const msg = encodeAnthropicJson(decodeResponsesJson(TOOL_JSON));
  assert.deepEqual(msg.content, [{
    type: "tool_use",
    id: "call_unLAR8MvFNptuiZK6K6HCy5k",
    name: "get_current_weather",
    input: { location: "Boston, MA", unit: "celsius" },
  }]);
  assert.equal(msg.stop_reason, "tool_use");
  assert.deepEqual(msg.usage, {
    input_tokens: 163,
    output_tokens: 23,
    cache_read_input_tokens: 128,
  });
  const back = encodeResponsesJson(decodeAnthropicJson(msg));
  assert.deepEqual(answerFields(back).output, answerFields(TOOL_JSON).output);
  assert.deepEqual(back.usage, TOOL_JSON.usage);
});

Deno.test("cross-protocol: Anthropic stream → Responses stream carries the same answer", () => {
  const anthropicSse = [
    {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-20250514",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1 },
      },
    },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Sure." } },
    { type: "content_block_stop", index: 0 },
    {
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "toolu_9", name: "shell", input: {} },
    },
    {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: '{"cmd":["ls"]}' },
    },
    { type: "content_block_stop", index: 1 },
    {
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { output_tokens: 9 },
    },
    { type: "message_stop" },
  ].map((d) => `event: ${d.type}\ndata: ${JSON.stringify(d)}\n\n`).join("");
  const events = decodeSse(new AnthropicStreamDecoder(), anthropicSse);
  const responses = encodeAll(new ResponsesStreamEncoder(), events);
  const back = decodeSse(new ResponsesStreamDecoder(), sseText(responses));
  assert.deepEqual(
    without(normalize(back), "start", "usage", "stop"),
    without(normalize(events), "start", "usage", "stop"),
  );
  assert.deepEqual(back[0], { ...events[0], created: (back[0] as { created: number }).created });
  // Responses always states the cached token count.
  assert.deepEqual(normalize(back).at(-2), {
    type: "usage",
    usage: { inputTokens: 12, outputTokens: 9, cacheReadTokens: 0 },
  });
  assert.deepEqual(back.at(-1), { type: "stop", reason: "tool_use" });
});
