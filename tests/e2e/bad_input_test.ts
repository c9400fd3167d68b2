// Bad input: every mistake gets the right status, the client's own error envelope and a fix.
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { createGateway } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { serveGateway } from "../../src/server.ts";

async function call(
  url: string,
  path: string,
  body: string | null,
  headers: Record<string, string> = {},
  method = "POST",
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("bad input: each mistake gets a clear error in the client's protocol", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    max_request_body_bytes: 2048,
  });
  try {
    const openai = [
      ["{not json", 400, /not valid JSON/],
      ["[1,2]", 400, /must be a JSON object/],
      // OpenAI's own wording, so clients that parse it behave as against the real API.
      [
        '{"messages":[{"role":"user","content":"hi"}]}',
        400,
        /^you must provide a model parameter$/,
      ],
      ['{"model":"m"}', 400, /^Missing required parameter: 'messages'\.$/],
      ['{"model":"m","messages":[]}', 400, /^Invalid 'messages': empty array/],
      [
        '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":"yes"}',
        400,
        /^Invalid type for 'stream': expected a boolean, but got a string instead\.$/,
      ],
      [
        JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(4000) }] }),
        413,
        /max_request_body_bytes/,
      ],
    ] as const;
    for (const [body, status, message] of openai) {
      const r = await call(gw.url, "/v1/chat/completions", body);
      assert.equal(r.status, status, body.slice(0, 60));
      assert.equal(typeof r.body.error.type, "string");
      assert.match(r.body.error.message, message);
    }
    const missing = await call(gw.url, "/v1/chat/completions", '{"model":"m"}');
    assert.equal(missing.body.error.param, "messages");
    assert.equal(missing.body.error.code, "missing_required_parameter");
    const anthropic = await call(gw.url, "/v1/messages", '{"model":"claude","messages":[]}');
    assert.equal(anthropic.status, 400);
    assert.equal(anthropic.body.type, "error");
    assert.equal(anthropic.body.error.type, "invalid_request_error");
    assert.equal(anthropic.body.error.message, "messages: at least one message is required");
    const noModel = await call(gw.url, "/v1/messages", '{"messages":[]}');
    assert.equal(noModel.body.error.message, "model: Field required");

    const responses = await call(gw.url, "/v1/responses", '{"input":"hi"}');
    assert.equal(responses.status, 400);
    assert.equal(responses.body.error.message, "Missing required parameter: 'model'.");

    const unknown = await call(gw.url, "/v2/nothing", "{}");
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /no route/);
    const wrongMethod = await call(gw.url, "/v1/chat/completions", null, {}, "GET");
    assert.equal(wrongMethod.status, 405);
    const anthropic404 = await call(gw.url, "/v1/messages/batches", "{}");
    assert.equal(anthropic404.body.type, "error");
    assert.equal(mock.requests.length, 0, "nothing bad reached the provider");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("pass-through: unknown roles, blocks, fields, query and beta headers reach the provider", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({ llm_provider: "anthropic", external_llm_url: mock.url });
  try {
    // Claude Code's mid-conversation system message (beta mid-conversation-system-2026-04-07).
    const body = JSON.stringify({
      model: "claude-opus-5",
      max_tokens: 64,
      temperature: "warm",
      future_field: { x: 1 },
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "system", content: [{ type: "text", text: "Plan mode is on." }] },
        {
          role: "user",
          content: [{ type: "future_block", data: 1 }, { type: "text", text: "go" }],
        },
      ],
    });
    const headers = { "anthropic-beta": "mid-conversation-system-2026-04-07" };
    const r = await call(gw.url, "/v1/messages?beta=true", body, headers);
    assert.equal(r.status, 200);
    const sent = mock.requests[0];
    assert.equal(sent.rawBody, body, "the body goes upstream byte for byte");
    assert.equal(sent.search, "?beta=true");
    assert.equal(sent.headers["anthropic-beta"], "mid-conversation-system-2026-04-07");
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("pass-through: a mid-conversation system message stays in place for an OpenAI provider", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({ llm_provider: "openai_compatible", external_llm_url: mock.url });
  try {
    const r = await call(
      gw.url,
      "/v1/messages?beta=true",
      JSON.stringify({
        model: "claude",
        max_tokens: 64,
        system: "S",
        messages: [
          { role: "user", content: "hi" },
          { role: "system", content: "Plan mode is on." },
          { role: "user", content: "go" },
        ],
      }),
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.type, "message");
    const sent = mock.requests[0];
    assert.equal(sent.search, "", "the query means nothing to another protocol");
    assert.deepEqual((sent.body as { messages: unknown[] }).messages, [
      { role: "system", content: "S" },
      { role: "user", content: "hi" },
      { role: "system", content: "Plan mode is on." },
      { role: "user", content: "go" },
    ]);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("bad input: an unreachable provider gives a 502 that names it", async () => {
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: "http://127.0.0.1:9",
    l3_max_retries: 0,
  });
  try {
    const r = await call(
      gw.url,
      "/v1/messages",
      JSON.stringify({
        model: "claude",
        max_tokens: 5,
        messages: [{ role: "user", content: "hi" }],
      }),
    );
    assert.equal(r.status, 502);
    assert.equal(r.body.type, "error");
    assert.match(r.body.error.message, /cannot reach openai_compatible/);
  } finally {
    await gw.close();
  }
});

Deno.test("auth: a gateway key guards every route but /healthz", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    gateway_api_key: "gw-secret",
  });
  try {
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });
    assert.equal((await call(gw.url, "/v1/chat/completions", body)).status, 401);
    const wrong = await call(gw.url, "/v1/messages", body, { "x-api-key": "nope" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.type, "authentication_error");
    const good: Record<string, string>[] = [
      { authorization: "Bearer gw-secret" },
      { "x-api-key": "gw-secret" },
      { "X-API-Key": "gw-secret" },
    ];
    for (const h of good) {
      assert.equal((await call(gw.url, "/v1/chat/completions", body, h)).status, 200);
    }
    for (const path of ["/health", "/metrics", "/v1/models"]) {
      const res = await fetch(`${gw.url}${path}`);
      await res.body?.cancel();
      assert.equal(res.status, 401, path);
    }
    const healthz = await fetch(`${gw.url}/healthz`);
    assert.equal(healthz.status, 200);
    await healthz.body?.cancel();
    // The gateway key never reaches the provider.
    assert.ok(mock.requests.every((r) => !JSON.stringify(r.headers).includes("gw-secret")));
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("auth: binding a non-loopback address without a key is refused", () => {
  const gw = createGateway(parseConfig({ host_port: "0.0.0.0:0" }));
  assert.throws(() => serveGateway(gw), /refusing to bind 0\.0\.0\.0/);
});

Deno.test("surface: health, metrics and models answer", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    model_aliases: { fast: "mock-model" },
  });
  try {
    const health = await (await fetch(`${gw.url}/health`)).json();
    assert.equal(health.status, "ok");
    assert.equal(health.layers.l3, "on");
    await (await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "fast", messages: [{ role: "user", content: "hi" }] }),
    })).body?.cancel();
    assert.equal((mock.requests[0].body as { model: string }).model, "mock-model", "alias applied");
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(
      metrics,
      /isartor_requests_total\{[^}]*layer="l3",route="openai_chat",status="200"[^}]*\} 1/,
    );
    const models = await (await fetch(`${gw.url}/v1/models`)).json();
    assert.ok(models.data.some((m: { id: string }) => m.id === "mock-model"));
    assert.ok(models.data.some((m: { id: string }) => m.id === "fast"));
    const native = await (await fetch(`${gw.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"prompt":"hi"}',
    })).json();
    assert.equal(native.response, "Hello! This is a canned answer from the mock upstream.");
    assert.equal(native.layer, "l3");
  } finally {
    await gw.close();
    await mock.close();
  }
});
