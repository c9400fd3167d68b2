import assert from "node:assert/strict";
import { lastUserTurn } from "../../../src/semantic/last_turn.ts";
import { partitionDigest } from "../../../src/semantic/partition.ts";

const E = "none:isartor-hash-v1";

function digestOf(
  protocol: "openai_chat" | "anthropic" | "openai_responses",
  body: Record<string, unknown>,
) {
  const r = lastUserTurn(protocol, body);
  assert.ok(r.ok, r.ok ? "" : r.reason);
  return partitionDigest(protocol, r.value, String(body.model), new Headers(), E);
}

Deno.test("last turn: OpenAI chat, string and text parts; the rest is the prefix", () => {
  const body = {
    model: "m",
    temperature: 0,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hello" }, { type: "text", text: "there" }] },
    ],
  };
  const r = lastUserTurn("openai_chat", body);
  assert.ok(r.ok);
  assert.equal(r.value.text, "Hello\nthere");
  assert.deepEqual(r.value.prefix.messages, [{ role: "system", content: "Be brief." }]);
  assert.deepEqual(r.value.turn, { role: "user" });
  assert.equal(r.value.prefix.temperature, 0);
});

Deno.test("last turn: tool results, images, prefills and empty turns are refused", () => {
  const cases: [
    string,
    "openai_chat" | "anthropic" | "openai_responses",
    Record<string, unknown>,
    RegExp,
  ][] = [
    [
      "tool message",
      "openai_chat",
      { messages: [{ role: "tool", content: "42" }] },
      /tool results/,
    ],
    ["image part", "openai_chat", {
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }],
    }, /images/],
    ["assistant prefill", "anthropic", {
      messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hel" }],
    }, /not the user's/],
    ["tool_result block", "anthropic", {
      messages: [{
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "t", content: "1" }],
      }],
    }, /tool results/],
    ["image block", "anthropic", {
      messages: [{
        role: "user",
        content: [{ type: "text", text: "what?" }, { type: "image", source: {} }],
      }],
    }, /images/],
    ["function_call_output", "openai_responses", {
      input: [{ type: "function_call_output", call_id: "c", output: "1" }],
    }, /tool results/],
    ["input_image", "openai_responses", {
      input: [{ role: "user", content: [{ type: "input_image", image_url: "x" }] }],
    }, /images/],
    ["empty", "openai_chat", { messages: [{ role: "user", content: "  " }] }, /empty/],
    ["no messages", "openai_chat", { messages: [] }, /no messages/],
  ];
  for (const [name, protocol, body, reason] of cases) {
    const r = lastUserTurn(protocol, body);
    assert.ok(!r.ok, name);
    assert.match(r.reason, reason, name);
  }
});

Deno.test("last turn: Responses string input and user message items", () => {
  const s = lastUserTurn("openai_responses", {
    model: "m",
    input: "Hi?",
    instructions: "Be brief.",
  });
  assert.ok(s.ok);
  assert.equal(s.value.text, "Hi?");
  assert.deepEqual(s.value.prefix, { model: "m", instructions: "Be brief." });
  const items = lastUserTurn("openai_responses", {
    input: [
      { role: "user", content: "First" },
      { type: "message", role: "user", content: [{ type: "input_text", text: "Second" }] },
    ],
  });
  assert.ok(items.ok);
  assert.equal(items.value.text, "Second");
  assert.deepEqual(items.value.prefix.input, [{ role: "user", content: "First" }]);
});

Deno.test("partition: the last turn's text is out, everything else is in", () => {
  const base = {
    model: "m",
    temperature: 0,
    messages: [{ role: "system", content: "S" }, { role: "user", content: "Question one?" }],
  };
  const d = digestOf("openai_chat", base);
  // Another last question: the same partition.
  assert.equal(
    digestOf("openai_chat", {
      ...base,
      messages: [base.messages[0], { role: "user", content: "Other?" }],
    }),
    d,
  );
  // Key order and transport fields do not matter either.
  assert.equal(
    digestOf("openai_chat", { stream: true, messages: base.messages, temperature: 0, model: "m" }),
    d,
  );
  const changed: Record<string, unknown>[] = [
    { ...base, model: "n" },
    { ...base, temperature: 0.2 },
    { ...base, max_tokens: 10 },
    { ...base, tools: [{ type: "function", function: { name: "f" } }] },
    { ...base, tool_choice: "none" },
    { ...base, messages: [{ role: "system", content: "T" }, base.messages[1]] },
    {
      ...base,
      messages: [
        { role: "user", content: "Earlier" },
        { role: "assistant", content: "Ok" },
        base.messages[1],
      ],
    },
    {
      ...base,
      messages: [base.messages[0], { role: "user", name: "bob", content: "Question one?" }],
    },
  ];
  for (const b of changed) assert.notEqual(digestOf("openai_chat", b), d, JSON.stringify(b));
  // The protocol and the embedder are in it too.
  assert.notEqual(
    digestOf("anthropic", { ...base, messages: [base.messages[1]] }),
    digestOf("openai_chat", { ...base, messages: [base.messages[1]] }),
  );
  const r = lastUserTurn("openai_chat", base);
  assert.ok(r.ok);
  assert.notEqual(partitionDigest("openai_chat", r.value, "m", new Headers(), "minilm:x"), d);
});

Deno.test("last turn: Gemini contents; function responses, media and thoughts are refused", () => {
  const body = {
    systemInstruction: { parts: [{ text: "S" }] },
    contents: [
      { role: "user", parts: [{ text: "first" }] },
      { role: "model", parts: [{ text: "ok" }] },
      { role: "user", parts: [{ text: "What is" }, { text: "2+2?" }] },
    ],
  };
  const r = lastUserTurn("gemini", body);
  assert.ok(r.ok);
  assert.equal(r.value.text, "What is\n2+2?");
  assert.deepEqual(r.value.turn, { role: "user" });
  assert.deepEqual(r.value.prefix.contents, body.contents.slice(0, 2));
  const last = (parts: unknown[], role = "user") =>
    lastUserTurn("gemini", { contents: [{ role, parts }] });
  assert.equal(last([{ functionResponse: { name: "f", response: {} } }]).ok, false);
  assert.equal(last([{ inlineData: { mimeType: "image/png", data: "" } }]).ok, false);
  assert.equal(last([{ text: "x", thoughtSignature: "s" }]).ok, false);
  assert.equal(last([{ text: "hi" }], "model").ok, false);
  assert.equal(last([{ text: "  " }]).ok, false);
  assert.equal(lastUserTurn("gemini", { contents: [{ parts: [{ text: "no role" }] }] }).ok, true);
});
