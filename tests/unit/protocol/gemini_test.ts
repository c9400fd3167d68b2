// The Gemini codec: upstream answers into events and back, JSON, SSE and the JSON-array stream.
import assert from "node:assert/strict";
import type { AnswerEvent } from "../../../src/protocol/events.ts";
import {
  decodeGeminiJson,
  decodeGeminiUsage,
  geminiFinishToStopReason,
  geminiStreamComplete,
  GeminiStreamDecoder,
} from "../../../src/protocol/gemini.ts";
import {
  encodeGeminiJson,
  geminiJsonArrayStream,
  GeminiStreamEncoder,
} from "../../../src/protocol/gemini_encode.ts";
import { CODECS } from "../../../src/protocol/codecs.ts";
import { decodeSse } from "./_helpers.ts";

const ANSWER = {
  candidates: [{
    content: {
      parts: [
        { text: "thinking...", thought: true, thoughtSignature: "sig1" },
        { text: "Let me look." },
        { functionCall: { id: "fc1", name: "ls", args: { path: "." } }, thoughtSignature: "sig2" },
      ],
      role: "model",
    },
    finishReason: "STOP",
    index: 0,
  }],
  usageMetadata: {
    promptTokenCount: 20,
    candidatesTokenCount: 5,
    thoughtsTokenCount: 3,
    cachedContentTokenCount: 8,
    totalTokenCount: 28,
  },
  modelVersion: "gemini-2.5-flash",
  responseId: "r1",
};

Deno.test("gemini: a GenerateContentResponse decodes to events (STOP with calls is tool_use)", () => {
  assert.deepEqual(decodeGeminiJson(ANSWER), [
    { type: "start", id: "r1", model: "gemini-2.5-flash" },
    { type: "reasoning", text: "thinking...", signature: "sig1" },
    { type: "text", text: "Let me look." },
    { type: "tool_call", index: 0, id: "fc1", name: "ls" },
    { type: "tool_args", index: 0, delta: '{"path":"."}' },
    { type: "usage", usage: { inputTokens: 20, outputTokens: 8, cacheReadTokens: 8 } },
    { type: "stop", reason: "tool_use" },
  ]);
  // A call without an id (the Gemini API sends none) gets one, for clients that need it.
  const noId = decodeGeminiJson({
    candidates: [{ content: { parts: [{ functionCall: { name: "f" } }] }, finishReason: "STOP" }],
  });
  const call = noId.find((e) => e.type === "tool_call");
  assert.ok(call?.type === "tool_call" && call.id.startsWith("call_"));
  // A blocked prompt has no candidates.
  assert.deepEqual(decodeGeminiJson({ promptFeedback: { blockReason: "SAFETY" } }).at(-1), {
    type: "stop",
    reason: "content_filter",
  });
});

Deno.test("gemini: finish reasons", () => {
  assert.equal(geminiFinishToStopReason("STOP", false), "end_turn");
  assert.equal(geminiFinishToStopReason("MAX_TOKENS", false), "max_tokens");
  assert.equal(geminiFinishToStopReason("SAFETY", false), "content_filter");
  assert.equal(geminiFinishToStopReason("RECITATION", false), "content_filter");
  // A failed tool call is never a cacheable answer.
  assert.equal(geminiFinishToStopReason("MALFORMED_FUNCTION_CALL", true), "refusal");
  assert.equal(geminiFinishToStopReason("SOMETHING_NEW", false), "refusal");
  assert.deepEqual(decodeGeminiUsage({ promptTokenCount: 3 }), { inputTokens: 3 });
});

const STREAM = [
  { candidates: [{ content: { parts: [{ text: "Hel" }], role: "model" }, index: 0 }] },
  {
    candidates: [{ content: { parts: [{ text: "lo" }], role: "model" }, index: 0 }],
    usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1 },
  },
  {
    candidates: [{
      content: { parts: [{ functionCall: { name: "ls", args: {} } }], role: "model" },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 },
    modelVersion: "m",
    responseId: "r2",
  },
].map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join("");

Deno.test("gemini: an alt=sse stream decodes chunk by chunk; the stop waits for the end", () => {
  const events = decodeSse(new GeminiStreamDecoder(), STREAM);
  assert.deepEqual(events.map((e) => e.type), [
    "start",
    "text",
    "text",
    "usage",
    "tool_call",
    "tool_args",
    "usage",
    "stop",
  ]);
  assert.deepEqual(events.at(-1), { type: "stop", reason: "tool_use" });
  // Cut before the finish reason: no stop, so never recorded.
  const cut = STREAM.split("\r\n\r\n").slice(0, 2).join("\r\n\r\n") + "\r\n\r\n";
  assert.equal(decodeSse(new GeminiStreamDecoder(), cut).some((e) => e.type === "stop"), false);
  assert.equal(geminiStreamComplete([{ data: '{"candidates":[{"finishReason":"STOP"}]}' }]), true);
  assert.throws(
    () => new GeminiStreamDecoder().decode({ data: '{"error":{"code":500,"message":"boom"}}' }),
    /boom/,
  );
});

const EVENTS: AnswerEvent[] = [
  { type: "start", id: "x1", model: "gpt-4o" },
  { type: "text", text: "Hi " },
  { type: "text", text: "there" },
  { type: "tool_call", index: 0, id: "call_a", name: "ls" },
  { type: "tool_args", index: 0, delta: '{"pa' },
  { type: "tool_args", index: 0, delta: 'th":"."}' },
  { type: "usage", usage: { inputTokens: 10, outputTokens: 4, cacheReadTokens: 2 } },
  { type: "stop", reason: "tool_use" },
];

Deno.test("gemini: events encode to a GenerateContentResponse", () => {
  assert.deepEqual(encodeGeminiJson(EVENTS), {
    candidates: [{
      content: {
        parts: [{ text: "Hi there" }, {
          functionCall: { name: "ls", args: { path: "." }, id: "call_a" },
        }],
        role: "model",
      },
      finishReason: "STOP",
      index: 0,
    }],
    modelVersion: "gpt-4o",
    responseId: "x1",
    usageMetadata: {
      promptTokenCount: 10,
      candidatesTokenCount: 4,
      totalTokenCount: 14,
      cachedContentTokenCount: 2,
    },
  });
  // And back: the same answer.
  const back = decodeGeminiJson(encodeGeminiJson(EVENTS));
  assert.deepEqual(back.filter((e) => e.type !== "usage"), [
    { type: "start", id: "x1", model: "gpt-4o" },
    { type: "text", text: "Hi there" },
    { type: "tool_call", index: 0, id: "call_a", name: "ls" },
    { type: "tool_args", index: 0, delta: '{"path":"."}' },
    { type: "stop", reason: "tool_use" },
  ]);
});

Deno.test("gemini: events encode to SSE chunks; a function call goes whole, with the finish", () => {
  const enc = new GeminiStreamEncoder();
  const sse = EVENTS.flatMap((e) => enc.encode(e));
  const chunks = sse.map((e) => JSON.parse(e.data));
  assert.equal(chunks.length, 3);
  assert.deepEqual(chunks[0].candidates[0].content.parts, [{ text: "Hi " }]);
  assert.deepEqual(chunks[2].candidates[0].content.parts, [{
    functionCall: { name: "ls", args: { path: "." }, id: "call_a" },
  }]);
  assert.equal(chunks[2].candidates[0].finishReason, "STOP");
  assert.equal(chunks[2].usageMetadata.promptTokenCount, 10);
  // What the encoder writes, the decoder reads back.
  const text = sse.map((e) => `data: ${e.data}\n\n`).join("");
  const back = decodeSse(CODECS.gemini.streamDecoder(), text);
  assert.equal(
    back.filter((e) => e.type === "text").map((e) => e.type === "text" && e.text).join(""),
    "Hi there",
  );
  assert.deepEqual(back.at(-1), { type: "stop", reason: "tool_use" });
});

Deno.test("gemini: the JSON-array stream is a JSON array of the SSE chunks", async () => {
  const bytes = new TextEncoder().encode(STREAM);
  const parts = [bytes.slice(0, 37), bytes.slice(37, 200), bytes.slice(200)];
  const out = ReadableStream.from(parts).pipeThrough(geminiJsonArrayStream());
  const text = await new Response(out).text();
  const arr = JSON.parse(text);
  assert.equal(arr.length, 3);
  assert.equal(arr[2].responseId, "r2");
  const empty = await new Response(ReadableStream.from([]).pipeThrough(geminiJsonArrayStream()))
    .text();
  assert.equal(empty, "[]");
});
