import assert from "node:assert/strict";
import { gateRequest } from "../../../src/slm/gate.ts";
import { labelOf } from "../../../src/slm/classifier.ts";
import { answerProblem, dominantScript } from "../../../src/slm/quality.ts";

const q = "What is the capital of France?";

Deno.test("gate: one plain user question passes, in every protocol", () => {
  assert.deepEqual(gateRequest("openai_chat", { messages: [{ role: "user", content: q }] }), {
    ok: true,
    system: "",
    question: q,
  });
  const anthropic = gateRequest("anthropic", {
    system: "Be brief.",
    max_tokens: 10,
    messages: [{ role: "user", content: [{ type: "text", text: q }] }],
  });
  assert.deepEqual(anthropic, { ok: true, system: "Be brief.", question: q });
  assert.equal(gateRequest("openai_responses", { input: q, instructions: "Be brief." }).ok, true);
  assert.equal(
    gateRequest("gemini", { contents: [{ role: "user", parts: [{ text: q }] }] }).ok,
    true,
  );
});

Deno.test("gate: tools, conversations, agent prompts, images and special asks are refused", () => {
  const user = { role: "user", content: q };
  const refused: [string, Parameters<typeof gateRequest>[0], Record<string, unknown>][] = [
    ["tools", "openai_chat", { messages: [user], tools: [{ type: "function" }] }],
    ["tools", "anthropic", { messages: [user], tools: [{ name: "t" }] }],
    ["tools", "gemini", { contents: [{ parts: [{ text: q }] }], tools: [{}] }],
    ["earlier turns", "anthropic", {
      messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, user],
    }],
    ["tool results", "anthropic", {
      messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "x" }] }],
    }],
    ["tool results", "openai_responses", {
      input: [{ type: "function_call_output", call_id: "c", output: "1" }],
    }],
    ["images", "gemini", {
      contents: [{ parts: [{ inlineData: { mimeType: "image/png", data: "AA" } }] }],
    }],
    ["agent", "anthropic", { system: "<env>cwd: /repo</env> Be brief.", messages: [user] }],
    ["agent", "openai_chat", {
      messages: [{ role: "system", content: "You are a coding agent. Help." }, user],
    }],
    ["long", "openai_chat", {
      messages: [{ role: "system", content: "Be kind. ".repeat(100) }, user],
    }],
    ["structured", "openai_chat", { messages: [user], response_format: { type: "json_object" } }],
    ["structured", "gemini", {
      contents: [{ parts: [{ text: q }] }],
      generationConfig: { responseMimeType: "application/json" },
    }],
    ["reasoning", "anthropic", { messages: [user], thinking: { type: "enabled" } }],
    ["choices", "openai_chat", { messages: [user], n: 2 }],
    ["continues", "openai_responses", { input: q, previous_response_id: "resp_1" }],
    ["long question", "openai_chat", { messages: [{ role: "user", content: "x".repeat(3000) }] }],
  ];
  for (const [what, protocol, body] of refused) {
    const r = gateRequest(protocol, body);
    assert.equal(r.ok, false, `${what} (${protocol}) should be refused`);
  }
});

Deno.test("classifier: the label is read from the top log-probabilities, never from free text", () => {
  const top = [{ token: " 1", logprob: Math.log(0.9) }, { token: "2", logprob: Math.log(0.08) }];
  const c = labelOf("binary", top);
  assert.equal(c?.intent, "SIMPLE");
  assert.ok(Math.abs(c!.confidence - 0.9) < 1e-9);
  assert.equal(labelOf("tiered", [{ token: "2", logprob: -0.1 }])?.intent, "MODERATE");
  assert.equal(labelOf("binary", [{ token: "3", logprob: -0.1 }]), null);
  assert.equal(labelOf("binary", [{ token: "Sure", logprob: -0.01 }]), null);
  assert.equal(labelOf("binary", undefined), null);
});

Deno.test("quality: empty, refusal, truncation and another script fail; a plain answer passes", () => {
  assert.equal(answerProblem(q, "  ", false), "empty");
  assert.equal(answerProblem(q, "I'm sorry, but I cannot", false), "refusal");
  assert.equal(answerProblem(q, "As an AI, I", false), "refusal");
  assert.equal(answerProblem(q, "Paris is the", true), "truncated");
  assert.equal(answerProblem("Столица Франции?", "The capital is Paris.", false), "wrong_language");
  assert.equal(answerProblem("フランスの首都は？", "パリです。", false), null);
  assert.equal(answerProblem(q, "Paris.", false), null);
  assert.equal(dominantScript("2 + 2 = 4"), null);
});
