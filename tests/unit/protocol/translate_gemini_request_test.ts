// Gemini <-> OpenAI chat request translation, and through chat to and from Anthropic.
import assert from "node:assert/strict";
import {
  geminiToOpenAIChat,
  openAIChatToGemini,
  SKIP_THOUGHT_SIGNATURE,
} from "../../../src/protocol/translate_gemini_request.ts";
import { anthropicToOpenAIChat } from "../../../src/protocol/translate_request.ts";

// What Gemini CLI sends (shape taken from a real run of @google/gemini-cli 0.61).
const GEMINI_CLI = {
  contents: [
    { role: "user", parts: [{ text: "<session_context>...</session_context>" }, { text: "ls" }] },
    {
      role: "model",
      parts: [
        { text: "thinking", thought: true },
        { text: "Running it." },
        {
          functionCall: { id: "run_1", name: "run_shell_command", args: { command: "ls" } },
          thoughtSignature: "c2ln",
        },
      ],
    },
    {
      role: "user",
      parts: [{
        functionResponse: { id: "run_1", name: "run_shell_command", response: { output: "a.txt" } },
      }],
    },
  ],
  systemInstruction: { parts: [{ text: "You are a CLI agent." }] },
  tools: [{
    functionDeclarations: [{
      name: "run_shell_command",
      description: "Runs a command",
      parametersJsonSchema: { type: "object", properties: { command: { type: "string" } } },
    }],
  }, { googleSearch: {} }],
  toolConfig: {
    functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["run_shell_command"] },
  },
  generationConfig: {
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxOutputTokens: 500,
    thinkingConfig: { includeThoughts: true, thinkingLevel: "HIGH" },
    responseMimeType: "application/json",
    responseJsonSchema: { type: "OBJECT", properties: { score: { type: "INTEGER" } } },
  },
};

Deno.test("gemini → chat: turns, tools, function calls and results, generationConfig", () => {
  assert.deepEqual(geminiToOpenAIChat(GEMINI_CLI, "gemini-2.5-pro", true), {
    model: "gemini-2.5-pro",
    messages: [
      { role: "system", content: "You are a CLI agent." },
      {
        role: "user",
        content: [{ type: "text", text: "<session_context>...</session_context>" }, {
          type: "text",
          text: "ls",
        }],
      },
      {
        role: "assistant",
        content: "Running it.",
        tool_calls: [{
          id: "run_1",
          type: "function",
          function: { name: "run_shell_command", arguments: '{"command":"ls"}' },
        }],
      },
      { role: "tool", tool_call_id: "run_1", content: "a.txt" },
    ],
    tools: [{
      type: "function",
      function: {
        name: "run_shell_command",
        description: "Runs a command",
        parameters: { type: "object", properties: { command: { type: "string" } } },
      },
    }],
    tool_choice: { type: "function", function: { name: "run_shell_command" } },
    temperature: 1,
    top_p: 0.95,
    max_tokens: 500,
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "response",
        schema: { type: "object", properties: { score: { type: "integer" } } },
      },
    },
    stream: true,
    stream_options: { include_usage: true },
  });
});

Deno.test("gemini → chat: calls without ids are matched to their responses by name, in order", () => {
  const out = geminiToOpenAIChat(
    {
      contents: [
        { role: "user", parts: [{ text: "go" }] },
        {
          role: "model",
          parts: [{ functionCall: { name: "a", args: {} } }, { functionCall: { name: "b" } }],
        },
        {
          role: "user",
          parts: [
            { functionResponse: { name: "b", response: { ok: true } } },
            { functionResponse: { name: "a", response: { output: "A" } } },
            { inlineData: { mimeType: "image/png", data: "AAAA" } },
          ],
        },
      ],
      tools: [{
        functionDeclarations: [{
          name: "a",
          parameters: { type: "OBJECT", properties: { x: { type: "STRING", nullable: true } } },
        }],
      }],
    },
    "m",
    false,
  ) as { messages: Record<string, unknown>[]; tools: unknown[] };
  const calls = out.messages[1].tool_calls as { id: string }[];
  assert.deepEqual(calls.map((c) => c.id), ["call_0", "call_1"]);
  assert.deepEqual(out.messages[2], {
    role: "tool",
    tool_call_id: "call_1",
    content: '{"ok":true}',
  });
  assert.deepEqual(out.messages[3], { role: "tool", tool_call_id: "call_0", content: "A" });
  assert.deepEqual(out.messages[4], {
    role: "user",
    content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }],
  });
  assert.deepEqual((out.tools[0] as { function: { parameters: unknown } }).function.parameters, {
    type: "object",
    properties: { x: { type: ["string", "null"] } },
  });
});

Deno.test("chat → gemini: system anywhere, tool calls signed, results named, merged turns", () => {
  const out = openAIChatToGemini({
    model: "gpt-5",
    messages: [
      { role: "system", content: "S" },
      { role: "user", content: "hi" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "c1", type: "function", function: { name: "ls", arguments: "{}" } },
          { id: "c2", type: "function", function: { name: "cat", arguments: '{"f":"a"}' } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "a.txt" },
      { role: "tool", tool_call_id: "c2", content: '{"text":"A"}' },
      { role: "developer", content: "Be terse." },
      {
        role: "user",
        content: [{ type: "image_url", image_url: { url: "data:image/jpeg;base64,QQ==" } }],
      },
    ],
    tools: [{ type: "function", function: { name: "ls", parameters: { type: "object" } } }],
    tool_choice: "required",
    temperature: 0.2,
    max_completion_tokens: 99,
    stop: "END",
    response_format: { type: "json_object" },
    stream: true,
  });
  assert.deepEqual(out, {
    systemInstruction: { parts: [{ text: "S\n\nBe terse." }] },
    contents: [
      { role: "user", parts: [{ text: "hi" }] },
      {
        role: "model",
        parts: [
          {
            functionCall: { name: "ls", args: {}, id: "c1" },
            thoughtSignature: SKIP_THOUGHT_SIGNATURE,
          },
          { functionCall: { name: "cat", args: { f: "a" }, id: "c2" } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "ls", response: { output: "a.txt" }, id: "c1" } },
          { functionResponse: { name: "cat", response: { text: "A" }, id: "c2" } },
          { inlineData: { mimeType: "image/jpeg", data: "QQ==" } },
        ],
      },
    ],
    tools: [{ functionDeclarations: [{ name: "ls", parametersJsonSchema: { type: "object" } }] }],
    toolConfig: { functionCallingConfig: { mode: "ANY" } },
    generationConfig: {
      temperature: 0.2,
      maxOutputTokens: 99,
      stopSequences: ["END"],
      responseMimeType: "application/json",
    },
  });
});

Deno.test("anthropic → chat: a mid-conversation system message stays in place", () => {
  const out = anthropicToOpenAIChat({
    model: "claude",
    max_tokens: 10,
    system: [{ type: "text", text: "S" }],
    messages: [
      { role: "user", content: "a" },
      { role: "system", content: [{ type: "text", text: "Reminder" }] },
      { role: "user", content: "b" },
    ],
  }) as { messages: unknown[] };
  assert.deepEqual(out.messages, [
    { role: "system", content: "S" },
    { role: "user", content: "a" },
    { role: "system", content: "Reminder" },
    { role: "user", content: "b" },
  ]);
  // Through chat to Gemini, it joins systemInstruction (Gemini has no system turn).
  assert.deepEqual(openAIChatToGemini(out).systemInstruction, {
    parts: [{ text: "S\n\nReminder" }],
  });
});
