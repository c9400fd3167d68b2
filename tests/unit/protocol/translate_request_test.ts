import assert from "node:assert/strict";
import {
  anthropicToOpenAIChat,
  openAIChatToAnthropic,
  responsesToOpenAIChat,
  TranslationError,
} from "../../../src/protocol/translate_request.ts";
import { deepFreeze } from "./_helpers.ts";

const OPTS = { defaultMaxTokens: 4096 };

const WEATHER_SCHEMA = {
  type: "object",
  properties: { location: { type: "string", description: "City and country" } },
  required: ["location"],
};

/** A Claude Code-like conversation: system blocks, images, thinking, tool use and results. */
const ANTHROPIC_REQ = deepFreeze({
  model: "claude-sonnet-4-20250514",
  max_tokens: 1024,
  system: [
    { type: "text", text: "You are a helpful assistant." },
    { type: "text", text: "Answer briefly.", cache_control: { type: "ephemeral" } },
  ],
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "Where is this, and what's the weather there?" },
        {
          type: "image",
          source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgoAAAANSUhEUg==" },
        },
      ],
    },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "It is the Eiffel Tower.", signature: "EqQBCgIYAh" },
        { type: "text", text: "That's the Eiffel Tower in Paris. Let me check the weather." },
        {
          type: "tool_use",
          id: "toolu_01A09q90qw90lq917835lq9",
          name: "get_weather",
          input: { location: "Paris, France" },
        },
      ],
    },
    {
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "toolu_01A09q90qw90lq917835lq9",
          content: [{ type: "text", text: "18°C, sunny" }],
        },
        { type: "text", text: "Thanks! And this one?", cache_control: { type: "ephemeral" } },
        { type: "image", source: { type: "url", url: "https://example.com/louvre.jpg" } },
      ],
    },
  ],
  tools: [{
    name: "get_weather",
    description: "Get the current weather in a given location",
    input_schema: WEATHER_SCHEMA,
  }],
  tool_choice: { type: "auto", disable_parallel_tool_use: true },
  temperature: 0.7,
  top_p: 0.9,
  top_k: 40,
  stop_sequences: ["\n\nHuman:"],
  stream: true,
  metadata: { user_id: "user-123" },
});

const CHAT_FROM_ANTHROPIC = {
  model: "claude-sonnet-4-20250514",
  messages: [
    { role: "system", content: "You are a helpful assistant.\n\nAnswer briefly." },
    {
      role: "user",
      content: [
        { type: "text", text: "Where is this, and what's the weather there?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==" } },
      ],
    },
    {
      role: "assistant",
      content: "That's the Eiffel Tower in Paris. Let me check the weather.",
      tool_calls: [{
        id: "toolu_01A09q90qw90lq917835lq9",
        type: "function",
        function: { name: "get_weather", arguments: '{"location":"Paris, France"}' },
      }],
    },
    { role: "tool", tool_call_id: "toolu_01A09q90qw90lq917835lq9", content: "18°C, sunny" },
    {
      role: "user",
      content: [
        { type: "text", text: "Thanks! And this one?" },
        { type: "image_url", image_url: { url: "https://example.com/louvre.jpg" } },
      ],
    },
  ],
  tools: [{
    type: "function",
    function: {
      name: "get_weather",
      description: "Get the current weather in a given location",
      parameters: WEATHER_SCHEMA,
    },
  }],
  tool_choice: "auto",
  parallel_tool_calls: false,
  max_tokens: 1024,
  temperature: 0.7,
  top_p: 0.9,
  stop: ["\n\nHuman:"],
  stream: true,
  stream_options: { include_usage: true },
  user: "user-123",
};

Deno.test("anthropicToOpenAIChat: system, images, tool use and results", () => {
  assert.deepEqual(anthropicToOpenAIChat(ANTHROPIC_REQ), CHAT_FROM_ANTHROPIC);
});

Deno.test("Anthropic → Chat → Anthropic keeps the conversation", () => {
  const back = openAIChatToAnthropic(anthropicToOpenAIChat(ANTHROPIC_REQ), OPTS);
  const m = ANTHROPIC_REQ.messages;
  assert.deepEqual(back, {
    model: "claude-sonnet-4-20250514",
    // Not representable in Chat: system blocks (joined), thinking, cache_control, top_k.
    system: "You are a helpful assistant.\n\nAnswer briefly.",
    messages: [
      m[0],
      { role: "assistant", content: m[1].content.slice(1) },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_01A09q90qw90lq917835lq9",
            content: "18°C, sunny",
          },
          { type: "text", text: "Thanks! And this one?" },
          m[2].content[2],
        ],
      },
    ],
    max_tokens: 1024,
    tools: ANTHROPIC_REQ.tools,
    tool_choice: { type: "auto", disable_parallel_tool_use: true },
    stop_sequences: ["\n\nHuman:"],
    temperature: 0.7,
    top_p: 0.9,
    metadata: { user_id: "user-123" },
    stream: true,
  });
});

/** An OpenAI SDK-like request with parallel tool calls and their results. */
const CHAT_REQ = deepFreeze({
  model: "gpt-4o",
  messages: [
    { role: "developer", content: "You are a helpful assistant." },
    {
      role: "user",
      content: [
        { type: "text", text: "What's the weather in these two cities?" },
        { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQSkZJRg==" } },
      ],
    },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"location":"Paris"}' },
        },
        {
          id: "call_2",
          type: "function",
          function: { name: "get_weather", arguments: '{"location":"Lyon"}' },
        },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "18°C" },
    { role: "tool", tool_call_id: "call_2", content: "21°C" },
    { role: "user", content: "Which is warmer?" },
  ],
  tools: [{
    type: "function",
    function: { name: "get_weather", description: "Get the weather", parameters: WEATHER_SCHEMA },
  }],
  tool_choice: "required",
  parallel_tool_calls: false,
  max_completion_tokens: 500,
  temperature: 1.5,
  stop: "END",
  user: "u1",
  stream: true,
  stream_options: { include_usage: true },
  seed: 7,
  n: 1,
});

const ANTHROPIC_FROM_CHAT = {
  model: "gpt-4o",
  system: "You are a helpful assistant.",
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "What's the weather in these two cities?" },
        {
          type: "image",
          source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQSkZJRg==" },
        },
      ],
    },
    {
      role: "assistant",
      content: [
        { type: "tool_use", id: "call_1", name: "get_weather", input: { location: "Paris" } },
        { type: "tool_use", id: "call_2", name: "get_weather", input: { location: "Lyon" } },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "call_1", content: "18°C" },
        { type: "tool_result", tool_use_id: "call_2", content: "21°C" },
        { type: "text", text: "Which is warmer?" },
      ],
    },
  ],
  max_tokens: 500,
  tools: [{ name: "get_weather", description: "Get the weather", input_schema: WEATHER_SCHEMA }],
  tool_choice: { type: "any", disable_parallel_tool_use: true },
  stop_sequences: ["END"],
  temperature: 1,
  metadata: { user_id: "u1" },
  stream: true,
};

Deno.test("openAIChatToAnthropic: developer prompt, image, parallel tool calls and results", () => {
  assert.deepEqual(openAIChatToAnthropic(CHAT_REQ, OPTS), ANTHROPIC_FROM_CHAT);
});

Deno.test("Chat → Anthropic → Chat keeps the conversation", () => {
  const back = anthropicToOpenAIChat(openAIChatToAnthropic(CHAT_REQ, OPTS));
  assert.deepEqual(back, {
    model: "gpt-4o",
    // developer → system; temperature clamped; stop as a list; n and seed dropped.
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      ...CHAT_REQ.messages.slice(1),
    ],
    tools: CHAT_REQ.tools,
    tool_choice: "required",
    parallel_tool_calls: false,
    max_tokens: 500,
    temperature: 1,
    stop: ["END"],
    stream: true,
    stream_options: { include_usage: true },
    user: "u1",
  });
});

Deno.test("openAIChatToAnthropic: merges same-role turns, skips empty ones", () => {
  const got = openAIChatToAnthropic({
    model: "m",
    messages: [
      { role: "system", content: "A" },
      { role: "user", content: "one" },
      { role: "user", content: [{ type: "text", text: "two" }] },
      { role: "assistant", content: "" },
      { role: "system", content: [{ type: "text", text: "B" }] },
      {
        role: "assistant",
        content: "three",
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{oops" } }],
      },
    ],
    tool_choice: { type: "function", function: { name: "f" } },
    tools: [{ type: "function", function: { name: "f" } }],
    max_tokens: 10,
    temperature: -1,
  }, OPTS);
  assert.deepEqual(got, {
    model: "m",
    system: "A\n\nB",
    messages: [
      { role: "user", content: [{ type: "text", text: "one" }, { type: "text", text: "two" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "three" },
          { type: "tool_use", id: "c", name: "f", input: {} },
        ],
      },
    ],
    max_tokens: 10,
    tools: [{ name: "f", input_schema: { type: "object", properties: {} } }],
    tool_choice: { type: "tool", name: "f" },
    temperature: 0,
  });
});

Deno.test("openAIChatToAnthropic: default max_tokens, and n > 1 is refused", () => {
  const body = { model: "m", messages: [{ role: "user", content: "hi" }] };
  assert.equal(openAIChatToAnthropic(body, OPTS).max_tokens, 4096);
  assert.throws(
    () => openAIChatToAnthropic({ ...body, n: 2 }, OPTS),
    (e: unknown) => e instanceof TranslationError && /`n`/.test(e.message),
  );
});

Deno.test("anthropicToOpenAIChat: string content, tool_choice variants, error tool results", () => {
  const base = { model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
  assert.deepEqual(anthropicToOpenAIChat({ ...base, system: "S", stream: false }), {
    model: "m",
    messages: [{ role: "system", content: "S" }, { role: "user", content: "hi" }],
    max_tokens: 5,
    stream: false,
  });
  const tools = [{ name: "f", input_schema: { type: "object" } }, {
    type: "web_search_20250305",
    name: "web_search",
  }];
  const choice = (tool_choice: unknown) =>
    anthropicToOpenAIChat({ ...base, tools, tool_choice }).tool_choice;
  assert.equal(choice({ type: "any" }), "required");
  assert.equal(choice({ type: "none" }), "none");
  assert.deepEqual(choice({ type: "tool", name: "f" }), {
    type: "function",
    function: { name: "f" },
  });
  assert.equal((anthropicToOpenAIChat({ ...base, tools }).tools as unknown[]).length, 1);
  const onlyResult = anthropicToOpenAIChat({
    ...base,
    messages: [{
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "t", content: "boom", is_error: true }],
    }],
  });
  assert.deepEqual(onlyResult.messages, [{ role: "tool", tool_call_id: "t", content: "boom" }]);
});

/** A Codex CLI-like Responses request. */
const RESPONSES_REQ = deepFreeze({
  model: "gpt-5-codex",
  instructions: "You are Codex, a coding agent.",
  input: [
    {
      type: "message",
      role: "developer",
      content: [{ type: "input_text", text: "<permissions>workspace-write</permissions>" }],
    },
    {
      type: "message",
      role: "user",
      content: [
        { type: "input_text", text: "What is in this repo?" },
        { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
      ],
    },
    {
      type: "reasoning",
      id: "rs_1",
      summary: [{ type: "summary_text", text: "Listing files." }],
      encrypted_content: "gAAAA",
    },
    {
      type: "message",
      role: "assistant",
      content: [{ type: "output_text", text: "Let me look.", annotations: [] }],
    },
    { type: "function_call", call_id: "call_1", name: "shell", arguments: '{"command":["ls"]}' },
    { type: "function_call", call_id: "call_2", name: "shell", arguments: '{"command":["pwd"]}' },
    { type: "function_call_output", call_id: "call_1", output: "README.md\nsrc" },
    { type: "function_call_output", call_id: "call_2", output: "/work" },
    { role: "user", content: "Thanks" },
  ],
  tools: [
    {
      type: "function",
      name: "shell",
      description: "Runs a shell command",
      strict: false,
      parameters: { type: "object", properties: { command: { type: "array" } } },
    },
    { type: "web_search" },
  ],
  tool_choice: "auto",
  parallel_tool_calls: true,
  reasoning: { effort: "medium", summary: "auto" },
  store: false,
  stream: true,
  include: ["reasoning.encrypted_content"],
  prompt_cache_key: "abc",
  max_output_tokens: 2000,
});

Deno.test("responsesToOpenAIChat: a Codex conversation", () => {
  const call = (id: string, cmd: string) => ({
    id,
    type: "function",
    function: { name: "shell", arguments: `{"command":["${cmd}"]}` },
  });
  assert.deepEqual(responsesToOpenAIChat(RESPONSES_REQ), {
    model: "gpt-5-codex",
    messages: [
      { role: "system", content: "You are Codex, a coding agent." },
      { role: "system", content: "<permissions>workspace-write</permissions>" },
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this repo?" },
          {
            type: "image_url",
            image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
          },
        ],
      },
      {
        role: "assistant",
        content: "Let me look.",
        tool_calls: [call("call_1", "ls"), call("call_2", "pwd")],
      },
      { role: "tool", tool_call_id: "call_1", content: "README.md\nsrc" },
      { role: "tool", tool_call_id: "call_2", content: "/work" },
      { role: "user", content: "Thanks" },
    ],
    tools: [{
      type: "function",
      function: {
        name: "shell",
        description: "Runs a shell command",
        parameters: { type: "object", properties: { command: { type: "array" } } },
        strict: false,
      },
    }],
    tool_choice: "auto",
    parallel_tool_calls: true,
    max_tokens: 2000,
    stream: true,
    stream_options: { include_usage: true },
  });
});

Deno.test("responsesToOpenAIChat: string input, function tool_choice, json schema", () => {
  const got = responsesToOpenAIChat({
    model: "gpt-4.1",
    input: "Tell me a joke",
    tools: [{ type: "function", name: "f", parameters: { type: "object" } }],
    tool_choice: { type: "function", name: "f" },
    text: {
      format: { type: "json_schema", name: "joke", schema: { type: "object" }, strict: true },
    },
    temperature: 0.2,
  });
  assert.deepEqual(got, {
    model: "gpt-4.1",
    messages: [{ role: "user", content: "Tell me a joke" }],
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
    tool_choice: { type: "function", function: { name: "f" } },
    temperature: 0.2,
    response_format: {
      type: "json_schema",
      json_schema: { name: "joke", schema: { type: "object" }, strict: true },
    },
  });
});

Deno.test("responsesToOpenAIChat: previous_response_id is refused", () => {
  assert.throws(
    () => responsesToOpenAIChat({ model: "m", input: "hi", previous_response_id: "resp_1" }),
    TranslationError,
  );
});

Deno.test("Responses → Chat → Anthropic gives a valid alternating conversation", () => {
  const anthropic = openAIChatToAnthropic(responsesToOpenAIChat(RESPONSES_REQ), OPTS);
  const messages = anthropic.messages as { role: string; content: unknown }[];
  assert.deepEqual(messages.map((m) => m.role), ["user", "assistant", "user"]);
  assert.equal(
    anthropic.system,
    "You are Codex, a coding agent.\n\n<permissions>workspace-write</permissions>",
  );
  assert.deepEqual(messages[1].content, [
    { type: "text", text: "Let me look." },
    { type: "tool_use", id: "call_1", name: "shell", input: { command: ["ls"] } },
    { type: "tool_use", id: "call_2", name: "shell", input: { command: ["pwd"] } },
  ]);
  assert.deepEqual(messages[2].content, [
    { type: "tool_result", tool_use_id: "call_1", content: "README.md\nsrc" },
    { type: "tool_result", tool_use_id: "call_2", content: "/work" },
    { type: "text", text: "Thanks" },
  ]);
  assert.equal(anthropic.max_tokens, 2000);
});
