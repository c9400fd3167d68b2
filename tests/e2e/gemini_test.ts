// deno-lint-ignore-file no-explicit-any -- assertions read JSON bodies of known shape
// The Gemini API end to end: Google's own SDK (@google/genai, what Gemini CLI uses) and fetch
// against the gateway, with the mock speaking Gemini natively or another protocol.
import assert from "node:assert/strict";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import {
  DEFAULT_ANSWER_TEXT,
  MOCK_THOUGHT_SIGNATURE,
  startMockUpstream,
} from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";

const JSON_TYPE = { "content-type": "application/json" };

const TOOL = { id: "call_ls_1", name: "run_shell_command", arguments: '{"command":"ls -la"}' };

function genai(url: string, apiKey = "client-key") {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url } });
}

const tools = [{
  functionDeclarations: [{
    name: "run_shell_command",
    description: "Runs a shell command",
    parametersJsonSchema: {
      type: "object",
      properties: { command: { type: "string" } },
      required: ["command"],
    },
  }],
}];

Deno.test("gemini: same protocol passes bytes, path, query and key through", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "gemini",
    external_llm_url: `${mock.url}/v1beta`,
    external_llm_api_key: "provider-key",
  });
  try {
    const body = '{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"futureField":{"x":1}}';
    const res = await fetch(
      `${gw.url}/v1beta/models/gemini-2.5-flash:generateContent?key=client-key&foo=bar`,
      { method: "POST", headers: { "content-type": "application/json" }, body },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-isartor-layer"), "l3");
    const sent = mock.requests[0];
    assert.equal(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert.equal(sent.search, "?foo=bar", "key consumed, other query params forwarded");
    assert.equal(sent.rawBody, body, "unknown fields pass through byte for byte");
    assert.equal(sent.headers["x-goog-api-key"], "provider-key");
    assert.equal(await res.text(), mock.lastSent?.raw, "the answer comes back unchanged");

    // Streaming with alt=sse: the provider's events, unchanged.
    const sse = await fetch(
      `${gw.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
      {
        method: "POST",
        headers: { "x-goog-api-key": "client-key", "content-type": "application/json" },
        body,
      },
    );
    assert.match(sse.headers.get("content-type") ?? "", /event-stream/);
    const text = await sse.text();
    assert.equal(mock.requests[1].search, "?alt=sse");
    const datas = [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1].trimEnd());
    assert.deepEqual(datas, mock.lastSent?.sse?.map((e) => e.data));

    // Without alt=sse: one JSON array, element by element.
    const arr = await fetch(
      `${gw.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`,
      { method: "POST", headers: { "content-type": "application/json" }, body },
    );
    assert.match(arr.headers.get("content-type") ?? "", /application\/json/);
    const chunks = JSON.parse(await arr.text());
    assert.ok(Array.isArray(chunks) && chunks.length >= 3);
    assert.equal(
      chunks.map((c: any) => c.candidates[0].content.parts[0].text).join(""),
      DEFAULT_ANSWER_TEXT,
    );
    assert.equal(chunks.at(-1).candidates[0].finishReason, "STOP");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: the SDK streams and calls tools through a Gemini provider", async () => {
  const mock = await startMockUpstream({ answer: { toolCall: TOOL } });
  const gw = await startGateway({ llm_provider: "gemini", external_llm_url: `${mock.url}/v1beta` });
  try {
    const ai = genai(gw.url);
    let calls: unknown[] = [];
    for await (
      const chunk of await ai.models.generateContentStream({
        model: "gemini-2.5-pro",
        contents: "list files",
        config: { tools, thinkingConfig: { includeThoughts: true } },
      })
    ) calls = [...calls, ...(chunk.functionCalls ?? [])];
    assert.deepEqual(calls, [{ name: "run_shell_command", args: { command: "ls -la" } }]);
    // Pass-through auth: the client's key, in Gemini's header.
    assert.equal(mock.requests[0].headers["x-goog-api-key"], "client-key");
    assert.equal(mock.requests[0].path, "/v1beta/models/gemini-2.5-pro:streamGenerateContent");
    const sent = mock.requests[0].body as any;
    assert.deepEqual(sent.generationConfig.thinkingConfig, { includeThoughts: true });
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: a Gemini client through an OpenAI provider, tools both ways", async () => {
  const mock = await startMockUpstream({ answer: { toolCall: TOOL } });
  const gw = await startGateway({ llm_provider: "openai_compatible", external_llm_url: mock.url });
  try {
    const ai = genai(gw.url);
    const res = await ai.models.generateContent({
      model: "m",
      contents: "list files",
      config: { tools, systemInstruction: "Be terse.", temperature: 0, maxOutputTokens: 100 },
    });
    const call = res.functionCalls?.[0];
    assert.equal(call?.name, "run_shell_command");
    assert.deepEqual(call?.args, { command: "ls -la" });
    assert.equal(call?.id, TOOL.id);
    assert.equal(res.usageMetadata?.promptTokenCount, 12);
    const chat = mock.requests[0].body as any;
    assert.equal(mock.requests[0].path, "/chat/completions");
    assert.deepEqual(chat.messages[0], { role: "system", content: "Be terse." });
    assert.equal(chat.tools[0].function.name, "run_shell_command");
    assert.equal(chat.max_tokens, 100);

    // The function response goes back as a tool message for that call.
    const history = [
      { role: "user", parts: [{ text: "list files" }] },
      { role: "model", parts: [{ functionCall: call }] },
      {
        role: "user",
        parts: [{
          functionResponse: { id: call?.id, name: call?.name, response: { output: "a.txt" } },
        }],
      },
    ];
    let text = "";
    const mockText = await startMockUpstream();
    const gw2 = await startGateway({
      llm_provider: "openai_compatible",
      external_llm_url: mockText.url,
    });
    try {
      for await (
        const chunk of await genai(gw2.url).models.generateContentStream({
          model: "m",
          contents: history,
          config: { tools },
        })
      ) text += chunk.text ?? "";
      assert.equal(text, DEFAULT_ANSWER_TEXT);
      const sent = mockText.requests[0].body as any;
      assert.equal(sent.stream, true);
      assert.equal(sent.messages[1].tool_calls[0].id, TOOL.id);
      assert.deepEqual(sent.messages[2], { role: "tool", tool_call_id: TOOL.id, content: "a.txt" });
    } finally {
      await gw2.close();
      await mockText.close();
    }
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: OpenAI and Anthropic clients through a Gemini provider", async () => {
  const mock = await startMockUpstream({ answer: { text: "Sure, listing.", toolCall: TOOL } });
  const gw = await startGateway({
    llm_provider: "gemini",
    external_llm_url: `${mock.url}/v1beta`,
    external_llm_model: "gemini-2.5-flash",
    external_llm_api_key: "k",
  });
  try {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "x" });
    const done = await openai.chat.completions.create({
      model: "gpt-5",
      messages: [
        { role: "system", content: "S" },
        { role: "user", content: "hi" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "c1",
            type: "function",
            function: { name: "run_shell_command", arguments: '{"command":"pwd"}' },
          }],
        },
        { role: "tool", tool_call_id: "c1", content: "/home" },
      ],
      tools: [{
        type: "function",
        function: { name: "run_shell_command", parameters: { type: "object" } },
      }],
    });
    assert.equal(done.choices[0].finish_reason, "tool_calls");
    assert.equal(done.choices[0].message.content, "Sure, listing.");
    assert.deepEqual(
      JSON.parse(
        done.choices[0].message.tool_calls![0].type === "function"
          ? (done.choices[0].message.tool_calls![0] as any).function.arguments
          : "{}",
      ),
      { command: "ls -la" },
    );
    assert.equal(done.usage?.prompt_tokens, 12);
    const sent = mock.requests[0];
    assert.equal(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    const g = sent.body as any;
    assert.deepEqual(g.systemInstruction, { parts: [{ text: "S" }] });
    assert.equal(g.contents[1].role, "model");
    assert.equal(g.contents[1].parts[0].functionCall.name, "run_shell_command");
    assert.equal(g.contents[1].parts[0].thoughtSignature, "skip_thought_signature_validator");
    assert.deepEqual(g.contents[2].parts[0].functionResponse, {
      name: "run_shell_command",
      response: { output: "/home" },
      id: "c1",
    });
    assert.equal(g.tools[0].functionDeclarations[0].name, "run_shell_command");

    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "x" });
    const stream = anthropic.messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    });
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, "tool_use");
    assert.deepEqual(final.content.map((b) => b.type), ["text", "tool_use"]);
    assert.equal(mock.requests[1].path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    assert.equal(mock.requests[1].search, "?alt=sse");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: the exact cache keys the URL's model and replays SSE, JSON and arrays", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "gemini",
    external_llm_url: `${mock.url}/v1beta`,
    cache_mode: "exact",
  });
  try {
    const body = JSON.stringify({
      contents: [{ role: "user", parts: [{ text: "hello" }] }],
      generationConfig: { temperature: 0 },
    });
    const post = (model: string, method: string) =>
      fetch(`${gw.url}/v1beta/models/${model}:${method}`, {
        method: "POST",
        headers: JSON_TYPE,
        body,
      });
    const first = await post("gemini-2.5-flash", "streamGenerateContent?alt=sse");
    const firstText = await first.text();
    assert.equal(first.headers.get("x-isartor-layer"), "l3");
    const again = await post("gemini-2.5-flash", "streamGenerateContent?alt=sse");
    assert.equal(again.headers.get("x-isartor-layer"), "l1a");
    assert.equal(
      (await again.text()).replaceAll("\r", ""),
      firstText.replaceAll("\r", ""),
      "a replay keeps the events",
    );
    // The same bytes for another model are another request.
    const other = await post("gemini-2.5-pro", "streamGenerateContent?alt=sse");
    await other.text();
    assert.equal(other.headers.get("x-isartor-layer"), "l3");
    // The recording serves JSON and the JSON-array stream too.
    const json = await post("gemini-2.5-flash", "generateContent");
    assert.equal(json.headers.get("x-isartor-layer"), "l1a");
    const answer = await json.json();
    assert.equal(answer.candidates[0].content.parts[0].text, DEFAULT_ANSWER_TEXT);
    assert.equal(answer.usageMetadata.promptTokenCount, 12);
    const array = await post("gemini-2.5-flash", "streamGenerateContent");
    assert.equal(array.headers.get("x-isartor-layer"), "l1a");
    assert.ok(Array.isArray(JSON.parse(await array.text())));
    assert.equal(mock.requests.length, 2);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: a signed function call replays only as it was sent", async () => {
  const mock = await startMockUpstream({ answer: { toolCall: TOOL } });
  const gw = await startGateway({
    llm_provider: "gemini",
    external_llm_url: `${mock.url}/v1beta`,
    cache_mode: "exact",
  });
  try {
    const body = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "ls" }] }] });
    const post = (method: string) =>
      fetch(`${gw.url}/v1beta/models/g:${method}`, { method: "POST", headers: JSON_TYPE, body });
    await (await post("streamGenerateContent?alt=sse")).text();
    const same = await post("streamGenerateContent?alt=sse");
    assert.equal(same.headers.get("x-isartor-layer"), "l1a");
    assert.match(await same.text(), new RegExp(MOCK_THOUGHT_SIGNATURE));
    // JSON would lose the signature: the provider answers instead.
    const json = await post("generateContent");
    assert.equal(json.headers.get("x-isartor-layer"), "l3");
    assert.equal(
      (await json.json()).candidates[0].content.parts[0].thoughtSignature,
      MOCK_THOUGHT_SIGNATURE,
    );
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: auth by x-goog-api-key or ?key=, errors in Gemini's envelope", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "gemini",
    external_llm_url: `${mock.url}/v1beta`,
    gateway_api_key: "gw-secret",
  });
  try {
    const ok = { contents: [{ parts: [{ text: "hi" }] }] };
    const url = `${gw.url}/v1beta/models/g:generateContent`;
    const denied = await fetch(url, {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify(ok),
    });
    assert.equal(denied.status, 401);
    const err = await denied.json();
    assert.equal(err.error.status, "UNAUTHENTICATED");
    assert.equal(err.error.code, 401);
    const byQuery = await fetch(`${url}?key=gw-secret`, {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify(ok),
    });
    assert.equal(byQuery.status, 200);
    await byQuery.body?.cancel();
    const byHeader = await genai(gw.url, "gw-secret").models.generateContent({
      model: "g",
      contents: "hi",
    });
    assert.equal(byHeader.text, DEFAULT_ANSWER_TEXT);
    assert.equal(mock.requests.at(-1)?.headers["x-goog-api-key"], undefined, "no key leaks");

    const bad = await fetch(`${url}?key=gw-secret`, {
      method: "POST",
      headers: JSON_TYPE,
      body: "{}",
    });
    assert.equal(bad.status, 400);
    const badBody = await bad.json();
    assert.equal(badBody.error.status, "INVALID_ARGUMENT");
    assert.match(badBody.error.message, /contents is not specified/);
    const unknown = await fetch(`${gw.url}/v1beta/models/g:embedContent?key=gw-secret`, {
      method: "POST",
      headers: JSON_TYPE,
      body: "{}",
    });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.status, "NOT_FOUND");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: countTokens and the models list", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({ llm_provider: "openai_compatible", external_llm_url: mock.url });
  try {
    const ai = genai(gw.url);
    const count = await ai.models.countTokens({ model: "m", contents: "hello there" });
    assert.ok((count.totalTokens ?? 0) > 0);
    const res = await fetch(`${gw.url}/v1beta/models`);
    const list = await res.json();
    assert.ok(list.models.every((m: any) => m.name.startsWith("models/")));
  } finally {
    await gw.close();
    await mock.close();
  }
  const mock2 = await startMockUpstream();
  const gw2 = await startGateway({
    llm_provider: "gemini",
    external_llm_url: `${mock2.url}/v1beta`,
  });
  try {
    const count = await genai(gw2.url).models.countTokens({ model: "g", contents: "hello" });
    assert.ok((count.totalTokens ?? 0) > 0);
    assert.equal(mock2.requests[0].path, "/v1beta/models/g:countTokens");
  } finally {
    await gw2.close();
    await mock2.close();
  }
});

Deno.test("gemini: a Responses client (Codex's API) through a Gemini provider, streaming", async () => {
  const mock = await startMockUpstream({ answer: { text: "Calling.", toolCall: TOOL } });
  const gw = await startGateway({
    llm_provider: "gemini",
    external_llm_url: `${mock.url}/v1beta`,
    external_llm_model: "gemini-2.5-flash",
  });
  try {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "x" });
    const stream = await openai.responses.create({
      model: "gpt-5",
      instructions: "Be terse.",
      input: [{ role: "user", content: "list files" }],
      tools: [{
        type: "function",
        name: "run_shell_command",
        parameters: { type: "object" },
        strict: false,
      }],
      stream: true,
    });
    const types: string[] = [];
    let args = "";
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.function_call_arguments.done") args = ev.arguments;
    }
    assert.equal(types.at(-1), "response.completed");
    assert.deepEqual(JSON.parse(args), { command: "ls -la" });
    const sent = mock.requests[0];
    assert.equal(sent.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    const g = sent.body as any;
    assert.deepEqual(g.systemInstruction, { parts: [{ text: "Be terse." }] });
    assert.equal(g.tools[0].functionDeclarations[0].name, "run_shell_command");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: a Gemini client through an Anthropic provider, streaming", async () => {
  const mock = await startMockUpstream({ answer: { text: "Listing.", toolCall: TOOL } });
  const gw = await startGateway({ llm_provider: "anthropic", external_llm_url: mock.url });
  try {
    let text = "";
    const calls: unknown[] = [];
    let finish: string | undefined;
    for await (
      const chunk of await genai(gw.url).models.generateContentStream({
        model: "claude-sonnet-4-6",
        contents: "list files",
        config: { tools, systemInstruction: "Be terse.", maxOutputTokens: 200 },
      })
    ) {
      text += chunk.text ?? "";
      calls.push(...(chunk.functionCalls ?? []));
      finish = chunk.candidates?.[0]?.finishReason ?? finish;
    }
    assert.equal(text, "Listing.");
    assert.deepEqual(calls, [{
      id: TOOL.id,
      name: "run_shell_command",
      args: { command: "ls -la" },
    }]);
    assert.equal(finish, "STOP");
    const sent = mock.requests[0];
    assert.equal(sent.path, "/messages");
    const a = sent.body as any;
    assert.equal(a.system, "Be terse.");
    assert.equal(a.max_tokens, 200);
    assert.equal(a.stream, true);
    assert.equal(a.tools[0].name, "run_shell_command");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("gemini: the semantic cache splits off the last user turn, within the model's partition", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "gemini",
    external_llm_url: `${mock.url}/v1beta`,
    cache_mode: "semantic",
    cache_backend: "memory",
    embedding_backend: "none",
    similarity_threshold: 0.8,
  });
  try {
    const ask = async (model: string, text: string) => {
      const res = await fetch(`${gw.url}/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: JSON_TYPE,
        body: JSON.stringify({
          systemInstruction: { parts: [{ text: "Be terse." }] },
          contents: [{ role: "user", parts: [{ text }] }],
          generationConfig: { temperature: 0 },
        }),
      });
      await res.arrayBuffer();
      return res.headers.get("x-isartor-layer");
    };
    assert.equal(await ask("gemini-2.5-flash", "How do I reset my password?"), "l3");
    assert.equal(await ask("gemini-2.5-flash", "how can i reset my password?"), "l1b");
    assert.equal(
      await ask("gemini-2.5-pro", "how can i reset my password?"),
      "l3",
      "another model",
    );
    assert.equal(mock.requests.length, 2);
  } finally {
    await gw.close();
    await mock.close();
  }
});
