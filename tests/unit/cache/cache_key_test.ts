// Golden tests of the exact-cache key spec (docs/cache-key.md).
import assert from "node:assert/strict";
import {
  exactKey,
  isSampled,
  keyMaterial,
  uncacheableReason,
} from "../../../src/cache/cache_key.ts";
import { canonicalJson } from "../../../src/cache/canonical_json.ts";

const NO_HEADERS = new Headers();
const key = (
  body: Record<string, unknown>,
  protocol: "openai_chat" | "anthropic" = "openai_chat",
) => exactKey(protocol, body, String(body.model), NO_HEADERS);

const CHAT = {
  model: "gpt-4o-mini",
  temperature: 0,
  messages: [
    { role: "system", content: "Be terse." },
    { role: "user", content: "What is 2+2?" },
  ],
};

Deno.test("cache key: golden material and digest (changing these breaks every stored key)", () => {
  const body = { ...CHAT, stream: true, user: "u-1" };
  assert.equal(
    canonicalJson(keyMaterial("openai_chat", body, "gpt-4o-mini", NO_HEADERS)),
    '{"body":{"messages":[{"content":"Be terse.","role":"system"},{"content":"What is 2+2?","role":"user"}],"temperature":0},"headers":{},"model":"gpt-4o-mini","protocol":"openai_chat","v":1}',
  );
  assert.equal(key(body), "3dd03abd25922ae96e34f46518844763c49e22056d7fef2178e67b03b5fa1711");
  const anthropic = {
    model: "claude",
    max_tokens: 64,
    system: [{ type: "text", text: "S", cache_control: { type: "ephemeral" } }],
    messages: [{
      role: "user",
      content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral" } }],
    }],
    metadata: { user_id: "x" },
  };
  const beta = new Headers({ "anthropic-beta": "b2, a1" });
  assert.equal(
    canonicalJson(keyMaterial("anthropic", anthropic, "claude", beta)),
    '{"body":{"max_tokens":64,"messages":[{"content":[{"text":"hi","type":"text"}],"role":"user"}],"system":[{"text":"S","type":"text"}]},"headers":{"anthropic-beta":"a1,b2"},"model":"claude","protocol":"anthropic","v":1}',
  );
  assert.equal(
    exactKey("anthropic", anthropic, "claude", beta),
    "357cc60fb5ab01cfc500821cc44120565b4afb81db229ae9df359aeabced9e24",
  );
});

Deno.test("cache key: key order and whitespace in the client's JSON never change it", () => {
  const reordered = JSON.parse(
    '{ "messages": [ {"content":"Be terse.","role":"system"}, {"role":"user","content":"What is 2+2?"} ], "temperature": 0.0, "model": "gpt-4o-mini" }',
  );
  assert.equal(key(reordered), key(CHAT));
});

Deno.test("cache key: fields that cannot change the answer are left out", () => {
  const base = key(CHAT);
  for (
    const extra of [
      { stream: true },
      { stream: true, stream_options: { include_usage: true } },
      { user: "alice" },
      { metadata: { session: "s1" } },
      { store: true },
      { service_tier: "flex" },
      { prompt_cache_key: "k" },
      { safety_identifier: "h" },
    ]
  ) assert.equal(key({ ...CHAT, ...extra }), base, JSON.stringify(extra));
  const a = {
    model: "claude",
    max_tokens: 10,
    messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
  };
  const marked = {
    ...a,
    messages: [{
      role: "user",
      content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral" } }],
    }],
    metadata: { user_id: "u" },
    stream: true,
  };
  assert.equal(key(marked, "anthropic"), key(a, "anthropic"));
});

Deno.test("cache key: every field that can change the answer changes it", () => {
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
  const withTools = { ...CHAT, tools, tool_choice: "auto" };
  const variants: Record<string, unknown>[] = [
    { ...CHAT, model: "gpt-4o" },
    { ...CHAT, temperature: 0.5 },
    { ...CHAT, top_p: 0.9 },
    { ...CHAT, max_tokens: 5 },
    { ...CHAT, stop: ["\n"] },
    { ...CHAT, seed: 1 },
    { ...CHAT, presence_penalty: 0.1 },
    { ...CHAT, frequency_penalty: 0.1 },
    { ...CHAT, n: 2 },
    { ...CHAT, response_format: { type: "json_object" } },
    { ...CHAT, reasoning_effort: "high" },
    { ...CHAT, messages: [CHAT.messages[1]] },
    { ...CHAT, messages: [{ role: "system", content: "Be verbose." }, CHAT.messages[1]] },
    withTools,
    { ...withTools, tool_choice: "required" },
    { ...withTools, tool_choice: { type: "function", function: { name: "f" } } },
    { ...CHAT, some_future_field: true },
  ];
  const keys = new Set([key(CHAT), ...variants.map((v) => key(v))]);
  assert.equal(keys.size, variants.length + 1);
  // A different tool result is a different conversation.
  const turn = (result: string) => ({
    ...CHAT,
    messages: [
      ...CHAT.messages,
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: result },
    ],
  });
  assert.notEqual(key(turn("42")), key(turn("43")));
  // The protocol is part of the key, and so is anthropic-beta.
  assert.notEqual(
    exactKey("anthropic", CHAT, "m", NO_HEADERS),
    exactKey("openai_chat", CHAT, "m", NO_HEADERS),
  );
  assert.notEqual(
    exactKey("anthropic", CHAT, "m", new Headers({ "anthropic-beta": "x" })),
    exactKey("anthropic", CHAT, "m", NO_HEADERS),
  );
  // The model after alias resolution is what counts.
  assert.equal(
    exactKey("openai_chat", { ...CHAT, model: "fast" }, "gpt-4o-mini", NO_HEADERS),
    key(CHAT),
  );
});

Deno.test("cache key: a schema property named cache_control is not stripped", () => {
  const tool = (props: Record<string, unknown>) => ({
    model: "claude",
    max_tokens: 5,
    messages: [{ role: "user", content: "x" }],
    tools: [{ name: "t", input_schema: { type: "object", properties: props } }],
  });
  assert.notEqual(
    key(tool({ cache_control: { type: "string" } }), "anthropic"),
    key(tool({}), "anthropic"),
  );
});

Deno.test("cache key: uncacheable requests and the sampling test", () => {
  assert.match(
    uncacheableReason("openai_responses", { previous_response_id: "resp_1" }) ?? "",
    /previous_response_id/,
  );
  assert.match(uncacheableReason("openai_chat", { n: 3 }) ?? "", /n > 1/);
  assert.equal(uncacheableReason("openai_chat", CHAT), null);
  assert.equal(isSampled({}), true, "providers default to temperature 1");
  assert.equal(isSampled({ temperature: 0 }), false);
  assert.equal(isSampled({ temperature: 0.7, seed: 3 }), false);
  assert.equal(isSampled({ temperature: 0.7 }), true);
});

Deno.test("cache key: Responses requests tied to provider state are never cached; store is keyed", () => {
  assert.match(
    uncacheableReason("openai_responses", { conversation: "conv_1" }) ?? "",
    /conversation/,
  );
  assert.match(
    uncacheableReason("openai_responses", { prompt: { id: "pmpt_1" } }) ?? "",
    /stored prompt/,
  );
  assert.equal(
    uncacheableReason("openai_responses", { prompt: { id: "pmpt_1", version: "3" } }),
    null,
  );
  const r = { model: "m", input: "hi" };
  assert.notEqual(
    exactKey("openai_responses", { ...r, store: true }, "m", NO_HEADERS),
    exactKey("openai_responses", { ...r, store: false }, "m", NO_HEADERS),
  );
});

// A Gemini request as Gemini CLI sends it: the model and the stream mode are in the URL.
const GEMINI = {
  contents: [{ role: "user", parts: [{ text: "What is 2+2?" }] }],
  systemInstruction: { parts: [{ text: "Be terse." }] },
  generationConfig: { temperature: 0, thinkingConfig: { includeThoughts: true } },
};

Deno.test("cache key: golden material and digest of a Gemini request", () => {
  const body = { ...GEMINI, labels: { team: "a" } };
  assert.equal(
    canonicalJson(keyMaterial("gemini", body, "gemini-2.5-flash", NO_HEADERS)),
    '{"body":{"contents":[{"parts":[{"text":"What is 2+2?"}],"role":"user"}],"generationConfig":{"temperature":0,"thinkingConfig":{"includeThoughts":true}},"systemInstruction":{"parts":[{"text":"Be terse."}]}},"headers":{},"model":"gemini-2.5-flash","protocol":"gemini","v":1}',
  );
  assert.equal(
    exactKey("gemini", body, "gemini-2.5-flash", NO_HEADERS),
    exactKey("gemini", GEMINI, "gemini-2.5-flash", NO_HEADERS),
    "billing labels are left out",
  );
  assert.equal(
    exactKey("gemini", GEMINI, "gemini-2.5-flash", NO_HEADERS),
    // sha256 of the material above, computed independently (Python hashlib).
    "eba150d95b6dc02118b742b38ea64c668abc4621ef03e33acb9d6b3d49cf39db",
  );
});

Deno.test("cache key: the URL's model and query are keyed; Gemini sampling reads generationConfig", () => {
  const flash = exactKey("gemini", GEMINI, "gemini-2.5-flash", NO_HEADERS);
  assert.notEqual(flash, exactKey("gemini", GEMINI, "gemini-2.5-pro", NO_HEADERS));
  const gen = (g: Record<string, unknown>) =>
    exactKey("gemini", { ...GEMINI, generationConfig: g }, "gemini-2.5-flash", NO_HEADERS);
  assert.notEqual(flash, gen({ temperature: 0.5 }));
  assert.notEqual(flash, gen({ temperature: 0, thinkingConfig: { thinkingBudget: 0 } }));
  // A query is forwarded, so it is keyed, in any order; none leaves keys as they were.
  const q = (query: string) => exactKey("anthropic", { model: "c" }, "c", NO_HEADERS, query);
  assert.equal(q(""), exactKey("anthropic", { model: "c" }, "c", NO_HEADERS));
  assert.notEqual(q("beta=true"), q(""));
  assert.equal(q("a=1&b=2"), q("b=2&a=1"));
  assert.equal(isSampled(GEMINI), false);
  assert.equal(isSampled({ contents: [] }), true);
  assert.equal(isSampled({ contents: [], generationConfig: { temperature: 1, seed: 3 } }), false);
  assert.match(
    uncacheableReason("gemini", { ...GEMINI, cachedContent: "c/1" }) ?? "",
    /cachedContent/,
  );
  assert.match(
    uncacheableReason("gemini", { ...GEMINI, generationConfig: { candidateCount: 2 } }) ?? "",
    /candidateCount/,
  );
});

/** A Codex-shaped Responses request of one session (the shape Codex 0.171 sends). */
function codexRequest(session: string, turn: string, created: number) {
  return {
    model: "gpt-5",
    instructions: "",
    input: [
      {
        type: "message",
        id: `msg_${session}-a`,
        role: "developer",
        content: [{ type: "input_text", text: "You are a coding agent." }],
        internal_chat_message_metadata_passthrough: {
          turn_id: turn,
          create_time: created,
          content_item_kinds: ["model.base_instructions"],
        },
      },
      {
        type: "message",
        id: `msg_${session}-b`,
        role: "user",
        content: [{ type: "input_text", text: "Say hello" }],
        internal_chat_message_metadata_passthrough: { turn_id: turn, create_time: created + 1 },
      },
      {
        type: "function_call",
        id: `fc_${session}`,
        call_id: "call_1",
        name: "sh",
        arguments: "{}",
      },
      { type: "function_call_output", call_id: "call_1", output: "ok" },
    ],
    tools: [{ type: "function", name: "sh", parameters: { type: "object" } }],
    tool_choice: "auto",
    parallel_tool_calls: true,
    reasoning: { summary: "auto" },
    store: false,
    stream: true,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: session,
    client_metadata: { session_id: session, thread_id: session, turn_id: turn },
  };
}

Deno.test("cache key: Responses session identity (client_metadata, item ids, Codex item metadata) is left out", () => {
  const a = codexRequest("s-1", "t-1", 1796624237.1);
  const b = codexRequest("s-2", "t-2", 1796624270.3);
  const responses = (body: Record<string, unknown>) =>
    exactKey("openai_responses", body, "gpt-5", NO_HEADERS);
  assert.equal(responses(a), responses(b));
  assert.equal(
    canonicalJson(keyMaterial("openai_responses", a, "gpt-5", NO_HEADERS)),
    '{"body":{"include":["reasoning.encrypted_content"],"input":[{"content":[{"text":"You are a coding agent.","type":"input_text"}],"role":"developer","type":"message"},{"content":[{"text":"Say hello","type":"input_text"}],"role":"user","type":"message"},{"arguments":"{}","call_id":"call_1","name":"sh","type":"function_call"},{"call_id":"call_1","output":"ok","type":"function_call_output"}],"instructions":"","parallel_tool_calls":true,"reasoning":{"summary":"auto"},"store":false,"tool_choice":"auto","tools":[{"name":"sh","parameters":{"type":"object"},"type":"function"}]},"headers":{},"model":"gpt-5","protocol":"openai_responses","v":1}',
  );
  assert.equal(responses(a), "842054fe70914b7b84285f91781bd6c37a5b9ed01b9ce0dbedc1541fba5e69c2");
  // What the model reads still counts: the text, a tool call id, what is asked back.
  const changed = (f: (r: ReturnType<typeof codexRequest>) => void) => {
    const r = codexRequest("s-1", "t-1", 1796624237.1);
    f(r);
    return responses(r);
  };
  assert.notEqual(changed((r) => r.input[1].content![0].text = "Say bye"), responses(a));
  assert.notEqual(changed((r) => r.input[3].call_id = "call_2"), responses(a));
  assert.notEqual(changed((r) => r.include = []), responses(a));
  assert.notEqual(changed((r) => r.store = true), responses(a));
});

Deno.test("cache key: an item whose id is its content keeps the id", () => {
  const withItems = (items: unknown[]) =>
    exactKey("openai_responses", { model: "m", input: items }, "m", NO_HEADERS);
  // An item_reference is nothing but its id.
  assert.notEqual(
    withItems([{ type: "item_reference", id: "msg_1" }]),
    withItems([{ type: "item_reference", id: "msg_2" }]),
  );
  // A reasoning item without encrypted_content is looked up by id on the provider.
  assert.notEqual(
    withItems([{ type: "reasoning", id: "rs_1", summary: [] }]),
    withItems([{ type: "reasoning", id: "rs_2", summary: [] }]),
  );
  // With encrypted_content the reasoning travels in the item: the id is a name again,
  // and the encrypted reasoning itself stays in the key.
  const rs = (id: string, enc: string) => ({
    type: "reasoning",
    id,
    summary: [],
    encrypted_content: enc,
  });
  assert.equal(withItems([rs("rs_1", "gAAA")]), withItems([rs("rs_2", "gAAA")]));
  assert.notEqual(withItems([rs("rs_1", "gAAA")]), withItems([rs("rs_1", "gBBB")]));
  // Chat and Messages keep every field: they have no item ids to drop.
  assert.notEqual(
    exactKey(
      "openai_chat",
      { model: "m", messages: [], client_metadata: { a: 1 } },
      "m",
      NO_HEADERS,
    ),
    exactKey(
      "openai_chat",
      { model: "m", messages: [], client_metadata: { a: 2 } },
      "m",
      NO_HEADERS,
    ),
  );
});
