// Web pages and rebound domains: the requests a browser would send for a hostile page are refused
// before any route runs, in the caller's protocol; real clients (no Origin, JSON) are untouched.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startMockedGateway } from "../support/gateway_harness.ts";
import { rawRequest } from "../support/raw_http.ts";

const CHAT = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "What is 2+2?" }],
});
const EVIL = "http://evil.example";

async function setup(config: Record<string, unknown> = {}) {
  const t = await startMockedGateway({ external_llm_api_key: "sk-provider", ...config });
  const port = new URL(t.gw.url).port;
  return Object.assign(t, { host: `127.0.0.1:${port}`, port });
}

Deno.test("browser guard: a page's simple text/plain POSTs neither plant answers nor spend credits", async () => {
  await using t = await setup();
  // What `fetch(gateway, {method: "POST", body: "..."})` on evil.example sends: no preflight.
  const plant = JSON.stringify({ prompt: "What is 2+2?", response: "5, trust me" });
  for (
    const headers of [
      { origin: EVIL, "content-type": "text/plain;charset=UTF-8" },
      { "content-type": "text/plain;charset=UTF-8" }, // an Origin-stripping extension
      { "content-type": "application/x-www-form-urlencoded" },
      {}, // a Blob body without a type
    ] as Record<string, string>[]
  ) {
    const r = await rawRequest(t.gw.url, "POST", "/api/v1/cache/store", {
      host: t.host,
      ...headers,
    }, plant);
    assert.ok(r.status === 403 || r.status === 415, `${JSON.stringify(headers)} → ${r.status}`);
    assert.equal(typeof JSON.parse(r.body).error.message, "string");
    const chat = await rawRequest(t.gw.url, "POST", "/v1/chat/completions", {
      host: t.host,
      ...headers,
    }, CHAT);
    assert.ok(chat.status === 403 || chat.status === 415);
  }
  assert.equal(t.mock.requests.length, 0, "no credit spent");
  // Nothing was planted: the real question reaches the provider.
  const real = await fetch(`${t.gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: CHAT,
  });
  assert.equal(real.headers.get("x-isartor-layer"), "l3");
  assert.doesNotMatch(await real.text(), /trust me/);
});

Deno.test("browser guard: a foreign Origin is refused in the caller's protocol, even with JSON", async () => {
  await using t = await setup();
  const openai = await rawRequest(t.gw.url, "POST", "/v1/chat/completions", {
    host: t.host,
    origin: EVIL,
    "content-type": "application/json",
  }, CHAT);
  assert.equal(openai.status, 403);
  assert.equal(JSON.parse(openai.body).error.type, "permission_error");
  assert.match(JSON.parse(openai.body).error.message, /allowed_origins/);
  assert.equal(openai.headers["access-control-allow-origin"], undefined);
  const anthropic = await rawRequest(t.gw.url, "POST", "/v1/messages", {
    host: t.host,
    origin: "null", // a sandboxed iframe or a file: page
    "content-type": "application/json",
  }, JSON.stringify({ model: "c", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }));
  assert.equal(anthropic.status, 403);
  assert.equal(JSON.parse(anthropic.body).type, "error");
  assert.equal(JSON.parse(anthropic.body).error.type, "permission_error");
  // GETs that read data, and a WebSocket upgrade (Codex's transport), are refused too.
  for (const path of ["/api/v1/stats", "/v1/models", "/health"]) {
    const r = await rawRequest(t.gw.url, "GET", path, { host: t.host, origin: EVIL });
    assert.equal(r.status, 403, path);
  }
  const ws = await rawRequest(t.gw.url, "GET", "/v1/responses", {
    host: t.host,
    origin: EVIL,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
  });
  assert.equal(ws.status, 403);
  assert.equal(t.mock.requests.length, 0);
});

Deno.test("browser guard: a Host that is not this gateway's (DNS rebinding) is refused", async () => {
  await using t = await setup({ allowed_hosts: ["isartor.lan"] });
  const refused = await rawRequest(t.gw.url, "POST", "/v1/chat/completions", {
    host: `rebind.evil.example:${t.port}`,
    origin: `http://rebind.evil.example:${t.port}`, // the page's own origin, after rebinding
    "content-type": "application/json",
  }, CHAT);
  assert.equal(refused.status, 403);
  assert.match(JSON.parse(refused.body).error.message, /allowed_hosts/);
  const noOrigin = await rawRequest(t.gw.url, "GET", "/v1/models", {
    host: `rebind.evil.example:${t.port}`,
  });
  assert.equal(noOrigin.status, 403);
  for (
    const host of [t.host, `localhost:${t.port}`, `[::1]:${t.port}`, "isartor.lan", "LOCALHOST"]
  ) {
    const ok = await rawRequest(t.gw.url, "GET", "/health", { host });
    assert.equal(ok.status, 200, host);
  }
  assert.equal(t.mock.requests.length, 0);
});

Deno.test("browser guard: preflights are answered only for allowed origins", async () => {
  const allowed = "http://localhost:3000";
  await using t = await setup({ allowed_origins: [allowed] });
  const preflight = (origin: string) =>
    rawRequest(t.gw.url, "OPTIONS", "/v1/chat/completions", {
      host: t.host,
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type, authorization",
    });
  const foreign = await preflight(EVIL);
  assert.equal(foreign.status, 403);
  assert.equal(foreign.headers["access-control-allow-origin"], undefined);
  const ok = await preflight(allowed);
  assert.equal(ok.status, 204);
  assert.equal(ok.headers["access-control-allow-origin"], allowed);
  assert.match(ok.headers["access-control-allow-headers"], /authorization/);
  // The actual request of the allowed page: answered, readable by the page.
  const post = await rawRequest(t.gw.url, "POST", "/v1/chat/completions", {
    host: t.host,
    origin: allowed,
    "content-type": "application/json",
  }, CHAT);
  assert.equal(post.status, 200);
  assert.equal(post.headers["access-control-allow-origin"], allowed);
  assert.match(post.headers["access-control-expose-headers"], /x-isartor-layer/);
});

Deno.test("browser guard: the gateway's own page (the dashboard) and real clients pass", async () => {
  await using t = await setup();
  const own = await rawRequest(t.gw.url, "POST", "/v1/chat/completions", {
    host: t.host,
    origin: `http://${t.host}`,
    "content-type": "application/json; charset=utf-8",
  }, CHAT);
  assert.equal(own.status, 200);
  const stats = await rawRequest(t.gw.url, "GET", "/api/v1/stats", {
    host: t.host,
    origin: `http://${t.host}`,
  });
  assert.equal(stats.status, 200);
  // An official SDK: no Origin, JSON.
  const client = new OpenAI({ apiKey: "x", baseURL: `${t.gw.url}/v1`, maxRetries: 0 });
  const answer = await client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "hello there" }],
  });
  assert.equal(answer.object, "chat.completion");
  // curl -H 'content-type: application/json' and a GET without Origin.
  const models = await fetch(`${t.gw.url}/v1/models`);
  assert.equal(models.status, 200);
  await models.body?.cancel();
});
