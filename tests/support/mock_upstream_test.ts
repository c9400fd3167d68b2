import assert from "node:assert/strict";
import {
  DEFAULT_ANSWER_TEXT,
  MOCK_BEHAVIOUR_HEADER,
  type MockUpstream,
  type MockUpstreamOptions,
  type SentEvent,
  startMockUpstream,
} from "./mock_upstream.ts";

const TOOL = { id: "call_abc123", name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' };

async function withMock(
  opts: MockUpstreamOptions,
  fn: (m: MockUpstream) => Promise<void>,
): Promise<void> {
  const m = await startMockUpstream(opts);
  try {
    await fn(m);
  } finally {
    await m.close();
  }
}

function post(
  m: MockUpstream,
  path: string,
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${m.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify(body),
    signal: init.signal,
  });
}

function parseSse(text: string): SentEvent[] {
  const events: SentEvent[] = [];
  for (const block of text.split("\n\n")) {
    if (block === "") continue;
    const e: SentEvent = { data: "" };
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) e.event = line.slice(7);
      else if (line.startsWith("data: ")) e.data = line.slice(6);
    }
    events.push(e);
  }
  return events;
}

async function readSse(res: Response): Promise<SentEvent[]> {
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  return parseSse(await res.text());
}

function json(data: string): Record<string, unknown> {
  return JSON.parse(data);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await sleep(5);
  assert.ok(cond(), "condition not reached");
}

const CHAT = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };
const MESSAGES = {
  model: "claude-sonnet-4-5",
  max_tokens: 256,
  messages: [{ role: "user", content: "hi" }],
};
const RESPONSES = { model: "gpt-4.1", input: "hi" };

// ---------------------------------------------------------------------------------------------
// Chat Completions

Deno.test("chat completions JSON", async () => {
  await withMock({}, async (m) => {
    const res = await post(m, "/v1/chat/completions", CHAT);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("x-request-id"), "req_mock_1");
    assert.equal(res.headers.get("x-ratelimit-remaining-requests"), "99");
    assert.equal(res.headers.get("openai-processing-ms"), "1");
    const body = await res.json();
    assert.equal(body.id, "chatcmpl-mock-1");
    assert.equal(body.object, "chat.completion");
    assert.equal(body.model, "gpt-4o-mini");
    assert.equal(typeof body.created, "number");
    assert.equal(typeof body.system_fingerprint, "string");
    assert.deepEqual(body.choices[0].message, {
      role: "assistant",
      content: DEFAULT_ANSWER_TEXT,
      refusal: null,
      annotations: [],
    });
    assert.equal(body.choices[0].finish_reason, "stop");
    assert.equal(body.usage.prompt_tokens, 12);
    assert.equal(body.usage.completion_tokens, 10);
    assert.equal(body.usage.total_tokens, 22);
    assert.equal(body.usage.prompt_tokens_details.cached_tokens, 0);

    assert.deepEqual(m.lastSent?.json, body);
    assert.equal(m.lastSent?.headers["x-request-id"], "req_mock_1");
    assert.equal(m.requests.length, 1);
    const r = m.requests[0];
    assert.equal(r.method, "POST");
    assert.equal(r.path, "/v1/chat/completions");
    assert.equal(r.headers["content-type"], "application/json");
    assert.deepEqual(r.body, CHAT);
    assert.equal(r.rawBody, JSON.stringify(CHAT));
  });
});

Deno.test("chat completions SSE with and without usage chunk", async () => {
  await withMock({ usage: { input: 5, output: 7 } }, async (m) => {
    const res = await post(m, "/openai/v1/chat/completions?x=1", {
      ...CHAT,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(res.headers.get("x-request-id"), "req_mock_1");
    const events = await readSse(res);
    assert.deepEqual(events, m.lastSent?.sse);
    assert.equal(m.requests[0].search, "?x=1");
    assert.equal(events.at(-1)?.data, "[DONE]");
    const chunks = events.slice(0, -1).map((e) => json(e.data));
    for (const c of chunks) {
      assert.equal(c.object, "chat.completion.chunk");
      assert.equal(c.id, "chatcmpl-mock-1");
      assert.equal(c.model, "gpt-4o-mini");
      assert.ok("usage" in c);
    }
    type Choice = { delta: Record<string, unknown>; finish_reason: string | null };
    const choices = chunks.map((c) => (c.choices as Choice[])[0]);
    assert.equal(choices[0].delta.role, "assistant");
    const content = choices.slice(1, -2).map((c) => c.delta.content);
    assert.ok(content.length >= 3);
    assert.equal(content.join(""), DEFAULT_ANSWER_TEXT);
    assert.equal(choices.at(-2)?.finish_reason, "stop");
    const usageChunk = chunks.at(-1)!;
    assert.deepEqual(usageChunk.choices, []);
    assert.deepEqual((usageChunk.usage as Record<string, unknown>).total_tokens, 12);

    const res2 = await post(m, "/v1/chat/completions", { ...CHAT, stream: true });
    const events2 = await readSse(res2);
    const chunks2 = events2.slice(0, -1).map((e) => json(e.data));
    assert.ok(chunks2.every((c) => (c.choices as unknown[]).length === 1 && !("usage" in c)));
    assert.equal(chunks2[0].id, "chatcmpl-mock-2");
  });
});

Deno.test("chat completions tool call JSON and SSE", async () => {
  await withMock({ answer: { toolCall: TOOL } }, async (m) => {
    const body = await (await post(m, "/v1/chat/completions", CHAT)).json();
    assert.equal(body.choices[0].finish_reason, "tool_calls");
    assert.equal(body.choices[0].message.content, null);
    assert.deepEqual(body.choices[0].message.tool_calls, [
      { id: TOOL.id, type: "function", function: { name: TOOL.name, arguments: TOOL.arguments } },
    ]);

    const events = await readSse(await post(m, "/v1/chat/completions", { ...CHAT, stream: true }));
    type ToolDelta = {
      index: number;
      id?: string;
      type?: string;
      function: Record<string, string>;
    };
    type Choice = { delta: { tool_calls?: ToolDelta[] }; finish_reason: string | null };
    const choices = events.slice(0, -1).map((e) => (json(e.data).choices as Choice[])[0]);
    const first = choices[0].delta.tool_calls![0];
    assert.equal(first.id, TOOL.id);
    assert.equal(first.type, "function");
    assert.equal(first.function.name, TOOL.name);
    assert.equal(first.function.arguments, "");
    const frags = choices.slice(1, -1).map((c) => c.delta.tool_calls![0].function.arguments);
    assert.ok(frags.length >= 3);
    assert.equal(frags.join(""), TOOL.arguments);
    assert.equal(choices.at(-1)?.finish_reason, "tool_calls");
  });
});

Deno.test("chat completions truncation gives finish_reason length", async () => {
  await withMock({}, async (m) => {
    const body = await (await post(m, "/v1/chat/completions", { ...CHAT, max_tokens: 1 })).json();
    assert.equal(body.choices[0].finish_reason, "length");
    assert.equal(body.usage.completion_tokens, 1);
    assert.ok(DEFAULT_ANSWER_TEXT.startsWith(body.choices[0].message.content));
  });
});

// ---------------------------------------------------------------------------------------------
// Anthropic Messages

Deno.test("messages JSON and SSE", async () => {
  await withMock({}, async (m) => {
    const res = await post(m, "/v1/messages", MESSAGES);
    assert.equal(res.headers.get("request-id"), "req_mock_1");
    assert.equal(res.headers.get("anthropic-ratelimit-requests-remaining"), "99");
    const body = await res.json();
    assert.equal(body.id, "msg_mock_1");
    assert.equal(body.type, "message");
    assert.equal(body.role, "assistant");
    assert.equal(body.model, MESSAGES.model);
    assert.deepEqual(body.content, [{ type: "text", text: DEFAULT_ANSWER_TEXT }]);
    assert.equal(body.stop_reason, "end_turn");
    assert.equal(body.stop_sequence, null);
    assert.equal(body.usage.input_tokens, 12);
    assert.equal(body.usage.output_tokens, 10);
    assert.equal(body.usage.cache_creation_input_tokens, 0);
    assert.equal(body.usage.cache_read_input_tokens, 0);

    const events = await readSse(await post(m, "/api/v1/messages", { ...MESSAGES, stream: true }));
    assert.deepEqual(events, m.lastSent?.sse);
    const names = events.map((e) => e.event);
    assert.deepEqual(names.slice(0, 3), ["message_start", "content_block_start", "ping"]);
    assert.deepEqual(names.slice(-3), ["content_block_stop", "message_delta", "message_stop"]);
    for (const e of events) assert.equal(json(e.data).type, e.event);
    const start = json(events[0].data).message as Record<string, unknown>;
    assert.equal(start.id, "msg_mock_2");
    assert.deepEqual(start.content, []);
    const text = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (json(e.data).delta as Record<string, string>));
    assert.ok(text.length >= 3);
    assert.ok(text.every((d) => d.type === "text_delta"));
    assert.equal(text.map((d) => d.text).join(""), DEFAULT_ANSWER_TEXT);
    const delta = json(events.at(-2)!.data);
    assert.deepEqual(delta.delta, { stop_reason: "end_turn", stop_sequence: null });
    assert.deepEqual(delta.usage, { output_tokens: 10 });
  });
});

Deno.test("messages tool_use JSON and SSE, max_tokens truncation", async () => {
  await withMock({ answer: { text: "Let me check.", toolCall: TOOL } }, async (m) => {
    const body = await (await post(m, "/v1/messages", MESSAGES)).json();
    assert.equal(body.stop_reason, "tool_use");
    assert.deepEqual(body.content, [
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: TOOL.id, name: TOOL.name, input: { city: "Paris", unit: "c" } },
    ]);

    const events = await readSse(await post(m, "/v1/messages", { ...MESSAGES, stream: true }));
    const starts = events.filter((e) => e.event === "content_block_start").map((e) => json(e.data));
    assert.deepEqual(starts[1], {
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: TOOL.id, name: TOOL.name, input: {} },
    });
    const partial = events
      .map((e) => json(e.data))
      .filter((d) => d.type === "content_block_delta" && d.index === 1)
      .map((d) => (d.delta as Record<string, string>));
    assert.ok(partial.every((d) => d.type === "input_json_delta"));
    assert.ok(partial.length >= 3);
    assert.equal(partial.map((d) => d.partial_json).join(""), TOOL.arguments);
    assert.equal(
      (json(events.at(-2)!.data).delta as Record<string, unknown>).stop_reason,
      "tool_use",
    );

    const cut = await (await post(m, "/v1/messages", { ...MESSAGES, max_tokens: 1 })).json();
    assert.equal(cut.stop_reason, "max_tokens");
    assert.equal(cut.content.length, 1);
  });
});

Deno.test("messages count_tokens", async () => {
  await withMock({}, async (m) => {
    const res = await post(m, "/v1/messages/count_tokens", MESSAGES);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(Object.keys(body), ["input_tokens"]);
    assert.ok(body.input_tokens > 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Responses

Deno.test("responses JSON and SSE", async () => {
  await withMock({}, async (m) => {
    const body = await (await post(m, "/v1/responses", RESPONSES)).json();
    assert.equal(body.id, "resp_mock_1");
    assert.equal(body.object, "response");
    assert.equal(body.status, "completed");
    assert.equal(body.model, RESPONSES.model);
    assert.equal(typeof body.created_at, "number");
    assert.deepEqual(body.output, [{
      type: "message",
      id: "msg_mock_1",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: DEFAULT_ANSWER_TEXT, annotations: [], logprobs: [] }],
    }]);
    assert.deepEqual(body.usage, {
      input_tokens: 12,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 10,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 22,
    });

    const events = await readSse(await post(m, "/v1/responses", { ...RESPONSES, stream: true }));
    assert.deepEqual(events, m.lastSent?.sse);
    const datas = events.map((e) => json(e.data));
    datas.forEach((d, i) => {
      assert.equal(d.type, events[i].event);
      assert.equal(d.sequence_number, i);
    });
    const names = events.map((e) => e.event);
    assert.deepEqual(names.slice(0, 4), [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    assert.deepEqual(names.slice(-4), [
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const deltas = datas.filter((d) => d.type === "response.output_text.delta");
    assert.ok(deltas.length >= 3);
    assert.equal(deltas.map((d) => d.delta).join(""), DEFAULT_ANSWER_TEXT);
    const completed = datas.at(-1)!.response as Record<string, unknown>;
    assert.equal(completed.status, "completed");
    assert.equal(completed.id, "resp_mock_2");
    assert.equal((completed.output as unknown[]).length, 1);
  });
});

Deno.test("responses function_call JSON and SSE", async () => {
  await withMock({ answer: { toolCall: TOOL } }, async (m) => {
    const body = await (await post(m, "/v1/responses", RESPONSES)).json();
    assert.deepEqual(body.output, [{
      type: "function_call",
      id: "fc_mock_1",
      call_id: TOOL.id,
      name: TOOL.name,
      arguments: TOOL.arguments,
      status: "completed",
    }]);
    const events = await readSse(await post(m, "/v1/responses", { ...RESPONSES, stream: true }));
    const datas = events.map((e) => json(e.data));
    const args = datas.filter((d) => d.type === "response.function_call_arguments.delta");
    assert.equal(args.map((d) => d.delta).join(""), TOOL.arguments);
    assert.equal(datas.at(-1)!.type, "response.completed");
  });
});

// ---------------------------------------------------------------------------------------------
// Misc routes

Deno.test("models list, 404 and invalid JSON", async () => {
  await withMock({}, async (m) => {
    const models = await (await fetch(`${m.url}/v1/models`)).json();
    assert.equal(models.object, "list");
    assert.equal(models.data[0].id, "mock-model");
    assert.equal(models.data[0].object, "model");
    assert.equal(models.data[0].owned_by, "mock");

    const nf = await post(m, "/v1/embeddings", {});
    assert.equal(nf.status, 404);
    assert.ok((await nf.json()).error.message.includes("/v1/embeddings"));

    const bad = await fetch(`${m.url}/v1/chat/completions`, { method: "POST", body: "{nope" });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    assert.equal(m.requests.at(-1)?.body, null);
    assert.equal(m.requests.at(-1)?.rawBody, "{nope");
  });
});

// ---------------------------------------------------------------------------------------------
// Behaviours

Deno.test("error behaviour: queue FIFO, default bodies, retry-after", async () => {
  await withMock({}, async (m) => {
    m.enqueue(
      { kind: "error", status: 429, headers: { "Retry-After": "2" } },
      { kind: "error", status: 529 },
      { kind: "error", status: 400, body: { error: { message: "custom" } } },
    );
    const r1 = await post(m, "/v1/chat/completions", CHAT);
    assert.equal(r1.status, 429);
    assert.equal(r1.headers.get("retry-after"), "2");
    assert.equal(r1.headers.get("x-request-id"), "req_mock_1");
    assert.deepEqual(await r1.json(), {
      error: { message: "mock error 429", type: "server_error", param: null, code: null },
    });

    const r2 = await post(m, "/v1/messages", MESSAGES);
    assert.equal(r2.status, 529);
    assert.deepEqual(await r2.json(), {
      type: "error",
      error: { type: "api_error", message: "mock error 529" },
    });
    assert.equal(m.lastSent?.status, 529);

    const r3 = await post(m, "/v1/responses", RESPONSES);
    assert.equal(r3.status, 400);
    assert.deepEqual(await r3.json(), { error: { message: "custom" } });

    const r4 = await post(m, "/v1/chat/completions", CHAT);
    assert.equal(r4.status, 200);
    await r4.body?.cancel();

    m.defaultBehaviour = { kind: "error", status: 503 };
    const r5 = await post(m, "/v1/chat/completions", CHAT);
    assert.equal(r5.status, 503);
    await r5.body?.cancel();
  });
});

Deno.test("cut behaviour drops the connection mid-stream and mid-JSON", async () => {
  await withMock({}, async (m) => {
    m.enqueue({ kind: "cut", afterEvents: 2 }, { kind: "cut", afterEvents: 0 });
    const res = await post(m, "/v1/chat/completions", { ...CHAT, stream: true });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = "";
    await assert.rejects(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
    });
    assert.equal(m.lastSent?.sse?.length, 2);
    assert.deepEqual(parseSse(received), m.lastSent?.sse);

    const res2 = await post(m, "/v1/messages", MESSAGES);
    assert.equal(res2.status, 200);
    await assert.rejects(() => res2.json());
    assert.equal(m.lastSent?.json, undefined);
    assert.ok((m.lastSent?.raw?.length ?? 0) > 0);
    assert.equal(m.aborted, 0);
  });
});

Deno.test("hang behaviour: client abort is counted", async () => {
  await withMock({}, async (m) => {
    m.enqueue({ kind: "hang" });
    const ac = new AbortController();
    const pending = post(m, "/v1/chat/completions", CHAT, { signal: ac.signal });
    await until(() => m.requests.length === 1);
    const aborted = m.nextAbort();
    ac.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof Error && e.name === "AbortError");
    await aborted;
    assert.equal(m.aborted, 1);
  });
});

Deno.test("hang behaviour: close() releases a pending request", async () => {
  const m = await startMockUpstream();
  m.defaultBehaviour = { kind: "hang" };
  const pending = post(m, "/v1/messages", MESSAGES);
  await until(() => m.requests.length === 1);
  const closed = m.close();
  const res = await pending;
  assert.equal(res.status, 503);
  await res.body?.cancel();
  await closed;
});

Deno.test("delay behaviour delays headers; abort during delay is counted", async () => {
  await withMock({}, async (m) => {
    m.enqueue({ kind: "delay", ms: 60 });
    const t0 = performance.now();
    const res = await post(m, "/v1/chat/completions", CHAT);
    assert.ok(performance.now() - t0 >= 50);
    assert.equal(res.status, 200);
    await res.json();

    m.enqueue({ kind: "delay", ms: 5_000 });
    const ac = new AbortController();
    const pending = post(m, "/v1/chat/completions", CHAT, { signal: ac.signal });
    await until(() => m.requests.length === 2);
    const aborted = m.nextAbort();
    ac.abort();
    await assert.rejects(pending);
    await aborted;
    assert.equal(m.aborted, 1);
  });
});

Deno.test("slow_stream behaviour: paced events; cancelled stream is counted", async () => {
  await withMock({}, async (m) => {
    m.enqueue({ kind: "slow_stream", eventDelayMs: 5 });
    const t0 = performance.now();
    const events = await readSse(await post(m, "/v1/messages", { ...MESSAGES, stream: true }));
    assert.ok(performance.now() - t0 >= 5 * (events.length - 1) * 0.8);
    assert.deepEqual(events, m.lastSent?.sse);

    m.enqueue({ kind: "slow_stream", eventDelayMs: 1_000 });
    const res = await post(m, "/v1/responses", { ...RESPONSES, stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    const aborted = m.nextAbort();
    await reader.cancel();
    await aborted;
    assert.equal(m.aborted, 1);
  });
});

Deno.test("x-mock-behaviour header overrides the queue", async () => {
  await withMock({}, async (m) => {
    m.enqueue({ kind: "error", status: 500 });
    const res = await post(m, "/v1/chat/completions", CHAT, {
      headers: { [MOCK_BEHAVIOUR_HEADER]: JSON.stringify({ kind: "error", status: 418 }) },
    });
    assert.equal(res.status, 418);
    await res.body?.cancel();
    // The queued behaviour is still there.
    const res2 = await post(m, "/v1/chat/completions", CHAT);
    assert.equal(res2.status, 500);
    await res2.body?.cancel();

    const bad = await post(m, "/v1/chat/completions", CHAT, {
      headers: { [MOCK_BEHAVIOUR_HEADER]: "{" },
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();

    const cut = await post(m, "/v1/responses", { ...RESPONSES, stream: true }, {
      headers: { [MOCK_BEHAVIOUR_HEADER]: '{"kind":"cut","afterEvents":3}' },
    });
    await assert.rejects(() => cut.text());
  });
});

Deno.test("reset clears requests, queue and counters", async () => {
  await withMock({}, async (m) => {
    m.enqueue({ kind: "error", status: 500 }, { kind: "error", status: 500 });
    const r = await post(m, "/v1/chat/completions", CHAT);
    await r.body?.cancel();
    m.defaultBehaviour = { kind: "hang" };
    m.reset();
    assert.equal(m.requests.length, 0);
    assert.equal(m.lastSent, null);
    assert.equal(m.aborted, 0);
    const body = await (await post(m, "/v1/chat/completions", CHAT)).json();
    assert.equal(body.id, "chatcmpl-mock-1");
  });
});

Deno.test("answerFor chooses the answer per request (a tool call, then text)", async () => {
  await withMock({
    answerFor: (body, route) => {
      if (route !== "messages") return null;
      return JSON.stringify(body.messages).includes("tool_result")
        ? { text: "concluded" }
        : { toolCall: TOOL };
    },
  }, async (m) => {
    const first = await (await post(m, "/v1/messages", {
      model: "claude-x",
      max_tokens: 100,
      messages: [{ role: "user", content: "weather?" }],
    })).json();
    assert.equal(first.stop_reason, "tool_use");
    assert.equal(first.content[0].name, "get_weather");
    const second = await (await post(m, "/v1/messages", {
      model: "claude-x",
      max_tokens: 100,
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: TOOL.id, content: "sun" }] },
      ],
    })).json();
    assert.equal(second.content[0].text, "concluded");
    // Another route falls back to the canned answer.
    const chat = await (await post(m, "/v1/chat/completions", {
      model: "gpt-x",
      messages: [{ role: "user", content: "hi" }],
    })).json();
    assert.equal(chat.choices[0].message.content, DEFAULT_ANSWER_TEXT);
  });
});
