// Incomplete and broken answers: only finished stop reasons are cached (issue 11, item 3), and a
// broken 2xx body becomes the protocol's error, never a success (item 4).
import assert from "node:assert/strict";
import { startGateway } from "../support/gateway_harness.ts";

/** What the fault upstream sends next: a body, its content type, and a cut. */
interface Reply {
  body: string;
  type?: string;
  /** Stream the body, then drop the connection instead of ending it. */
  cutStream?: boolean;
}

/** An upstream on 127.0.0.1 that answers each request with the reply the test set. */
function faultUpstream() {
  let reply: Reply = { body: "{}" };
  let calls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    calls++;
    await req.body?.cancel();
    const r = reply;
    const headers = { "content-type": r.type ?? "application/json" };
    if (!r.cutStream) return new Response(r.body, { headers });
    const bytes = new TextEncoder().encode(r.body);
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(bytes);
          setTimeout(() => c.error(new Error("cut")), 5);
        },
      }),
      { headers },
    );
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    set(r: Reply) {
      reply = r;
    },
    get calls() {
      return calls;
    },
    close: () => server.shutdown(),
  };
}

async function setup(provider: "openai_compatible" | "openai" | "anthropic" = "openai_compatible") {
  const up = faultUpstream();
  const gw = await startGateway({
    llm_provider: provider,
    external_llm_url: `${up.url}/v1`,
    external_llm_api_key: "sk-provider",
    cache_mode: "exact",
    cache_backend: "memory",
    l3_max_retries: 0,
  });
  return {
    up,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await up.close();
    },
  };
}

function post(url: string, path: string, body: unknown) {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
}

const chatBody = (q: string, extra: Record<string, unknown> = {}) => ({
  model: "m",
  messages: [{ role: "user", content: q }],
  ...extra,
});

function completion(finish: unknown, omit = false): string {
  const choice: Record<string, unknown> = {
    index: 0,
    message: { role: "assistant", content: "partial answ" },
  };
  if (!omit) choice.finish_reason = finish;
  return JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [choice],
  });
}

Deno.test("incomplete: an OpenAI answer is cached only with a finished finish_reason", async () => {
  await using t = await setup();
  const cases: [string, string, boolean][] = [
    ["null", completion(null), false],
    ["missing", completion(undefined, true), false],
    ["error", completion("error"), false],
    ["unknown", completion("network_error"), false],
    ["content_filter", completion("content_filter"), false],
    ["stop", completion("stop"), true],
    ["length", completion("length"), true],
  ];
  for (const [name, body, cached] of cases) {
    t.up.set({ body });
    const q = `question ${name}`;
    await (await post(t.gw.url, "/v1/chat/completions", chatBody(q))).body?.cancel();
    const before = t.up.calls;
    const again = await post(t.gw.url, "/v1/chat/completions", chatBody(q));
    await again.body?.cancel();
    assert.equal(again.headers.get("x-isartor-layer"), cached ? "l1a" : "l3", name);
    assert.equal(t.up.calls, before + (cached ? 0 : 1), name);
  }
});

Deno.test("incomplete: a stream ending with finish_reason error is relayed, never cached", async () => {
  await using t = await setup();
  const chunk = (delta: unknown, finish: unknown) =>
    `data: ${
      JSON.stringify({
        id: "c",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta, finish_reason: finish }],
      })
    }\n\n`;
  t.up.set({
    type: "text/event-stream",
    body: chunk({ role: "assistant", content: "half" }, null) + chunk({}, "error") +
      "data: [DONE]\n\n",
  });
  const body = chatBody("stream q", { stream: true });
  const first = await post(t.gw.url, "/v1/chat/completions", body);
  assert.match(await first.text(), /"finish_reason":"error"/);
  const second = await post(t.gw.url, "/v1/chat/completions", body);
  await second.body?.cancel();
  assert.equal(second.headers.get("x-isartor-layer"), "l3");
  assert.equal(t.up.calls, 2);
});

Deno.test("incomplete: an Anthropic answer with stop_reason null or unknown is not cached", async () => {
  await using t = await setup("anthropic");
  const message = (stop: unknown) =>
    JSON.stringify({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude",
      content: [{ type: "text", text: "partial" }],
      stop_reason: stop,
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    });
  const ask = (q: string) => ({
    model: "claude",
    max_tokens: 10,
    messages: [{ role: "user", content: q }],
  });
  for (
    const [stop, cached] of [[null, false], ["overloaded", false], ["end_turn", true]] as const
  ) {
    t.up.set({ body: message(stop) });
    const q = `anthropic ${stop}`;
    await (await post(t.gw.url, "/v1/messages", ask(q))).body?.cancel();
    const again = await post(t.gw.url, "/v1/messages", ask(q));
    await again.body?.cancel();
    assert.equal(again.headers.get("x-isartor-layer"), cached ? "l1a" : "l3", String(stop));
  }
});

Deno.test("incomplete: a Responses answer is cached only with status completed", async () => {
  await using t = await setup("openai");
  const response = (status: unknown) =>
    JSON.stringify({
      id: "resp_1",
      object: "response",
      created_at: 1,
      model: "m",
      ...(status === undefined ? {} : { status }),
      output: [{
        type: "message",
        id: "msg_1",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "partial", annotations: [] }],
      }],
    });
  for (
    const [status, cached] of [
      [undefined, false],
      ["failed", false],
      ["in_progress", false],
      ["completed", true],
    ] as const
  ) {
    t.up.set({ body: response(status) });
    const ask = { model: "m", input: `responses ${status}` };
    await (await post(t.gw.url, "/v1/responses", ask)).body?.cancel();
    const again = await post(t.gw.url, "/v1/responses", ask);
    await again.body?.cancel();
    assert.equal(again.headers.get("x-isartor-layer"), cached ? "l1a" : "l3", String(status));
  }
});

Deno.test("broken body: a truncated 2xx JSON answer is a 502 in the client's envelope", async () => {
  await using t = await setup();
  const whole = completion("stop");
  t.up.set({ body: whole.slice(0, whole.length - 20) });
  const openai = await post(t.gw.url, "/v1/chat/completions", chatBody("cut json"));
  assert.equal(openai.status, 502);
  const err = await openai.json();
  assert.match(err.error.message, /not valid JSON/);
  // The same cut answer, asked for as a stream: an error, not an invented empty stream.
  const streamed = await post(
    t.gw.url,
    "/v1/chat/completions",
    chatBody("cut json 2", { stream: true }),
  );
  assert.equal(streamed.status, 502);
  assert.doesNotMatch(await streamed.text(), /\[DONE\]/);
  // Anthropic client over an OpenAI upstream: Anthropic's envelope.
  const anthropic = await post(t.gw.url, "/v1/messages", {
    model: "m",
    max_tokens: 5,
    messages: [{ role: "user", content: "cut json 3" }],
  });
  assert.equal(anthropic.status, 502);
  assert.equal((await anthropic.json()).type, "error");
});

Deno.test("broken body: a JSON non-answer under stream:true is an error, not a made-up stream", async () => {
  await using t = await setup();
  t.up.set({ body: '{"object":"chat.completion","choices":[]}' });
  const res = await post(t.gw.url, "/v1/chat/completions", chatBody("empty", { stream: true }));
  const text = await res.text();
  assert.equal(res.status, 502, text);
  assert.doesNotMatch(text, /\[DONE\]|finish_reason/);
});

Deno.test("broken body: a JSON client whose provider streams and breaks gets a 502 before any byte", async () => {
  await using t = await setup();
  t.up.set({
    type: "text/event-stream",
    cutStream: true,
    body: `data: ${
      JSON.stringify({
        id: "c",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{
          index: 0,
          delta: { role: "assistant", content: "half an" },
          finish_reason: null,
        }],
      })
    }\n\n`,
  });
  const res = await post(t.gw.url, "/v1/chat/completions", chatBody("streams then breaks"));
  assert.equal(res.status, 502);
  const body = await res.json();
  assert.match(body.error.message, /interrupted|without a stop/);
});
