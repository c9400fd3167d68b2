// Per-tenant gateway keys: the tenant comes from the key, so holders of different keys never see
// each other's exact or semantic cache entries, stats or cache admin; only a trusted-proxy key may
// name a tenant in tenant_header; quotas answer 429 with Retry-After in the caller's protocol.
import assert from "node:assert/strict";
import { startSimulatedGateway } from "../support/gateway_harness.ts";
import { hashGatewayKey } from "../../src/http/gateway_keys.ts";

const MODEL = "gpt-4o-mini";
const KEY_A = "isk-team-a-secret";
const KEY_B = "isk-team-b-secret";
const PROXY = "isk-proxy-secret";

function entry(key: string, tenant: string, extra: Record<string, unknown> = {}) {
  return { key_sha256: hashGatewayKey(key), tenant, label: tenant, ...extra };
}

function chat(content: string) {
  return { model: MODEL, temperature: 0, messages: [{ role: "user", content }] };
}

function setup(config: Record<string, unknown> = {}) {
  return startSimulatedGateway({
    cache_mode: "both",
    similarity_threshold: 0.8,
    tenant_header: "x-team",
    gateway_keys: [
      entry(KEY_A, "team-a"),
      entry(KEY_B, "team-b"),
      entry(PROXY, "edge", { trusted_proxy: true }),
    ],
    ...config,
  });
}

async function send(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  path = "/v1/chat/completions",
) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  return {
    status: res.status,
    layer: res.headers.get("x-isartor-layer"),
    headers: res.headers,
    json,
  };
}

const as = (key: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${key}`,
  ...extra,
});

Deno.test("keys: exact and semantic entries stay with the key's tenant, whatever the header claims", async () => {
  await using t = await setup();
  const q = chat("What is the capital of Chile?");
  assert.equal((await send(t.gw.url, q, as(KEY_A))).layer, "l3");
  assert.equal((await send(t.gw.url, q, as(KEY_A))).layer, "l1a");
  // Team B asks the same, and claims team A's tenant in the header: not honoured.
  assert.equal((await send(t.gw.url, q, as(KEY_B, { "x-team": "team-a" }))).layer, "l3");
  const paraphrase = chat("what's the capital of Chile");
  assert.equal((await send(t.gw.url, paraphrase, as(KEY_A))).layer, "l1b");
  const c = chat("How tall is Mount Fuji?");
  await send(t.gw.url, c, as(KEY_A));
  assert.equal(
    (await send(t.gw.url, chat("how tall is mount Fuji"), as(KEY_B, { "x-team": "team-a" })))
      .layer,
    "l3",
    "a semantic neighbour in another tenant is never served",
  );
  // A trusted proxy names the tenant: it speaks for team A, so it shares team A's entries.
  assert.equal((await send(t.gw.url, q, as(PROXY, { "x-team": "team-a" }))).layer, "l1a");
  // Without a header, the proxy's own tenant.
  assert.equal((await send(t.gw.url, q, as(PROXY))).layer, "l3");
  // A key that is not configured is refused.
  assert.equal((await send(t.gw.url, q, as("isk-unknown"))).status, 401);
});

Deno.test("keys: the cache admin API and the stats see only the key's tenant", async () => {
  await using t = await setup();
  await send(t.gw.url, chat("Name a prime number above 100"), as(KEY_A));
  const lookup = (key: string, extra: Record<string, string> = {}) =>
    send(
      t.gw.url,
      { request: chat("Name a prime number above 100") },
      as(key, extra),
      "/api/v1/cache/lookup",
    );
  assert.equal((await lookup(KEY_A)).json.hit, true);
  assert.equal((await lookup(KEY_B, { "x-team": "team-a" })).status, 204, "a miss for team B");
  const statsOf = async (key: string) =>
    await (await fetch(`${t.gw.url}/api/v1/stats`, { headers: as(key, { "x-team": "team-a" }) }))
      .json();
  const a = await statsOf(KEY_A);
  const b = await statsOf(KEY_B);
  assert.equal(a.scope, "tenant");
  assert.ok(a.totals.requests >= 1, JSON.stringify(a.totals));
  assert.equal(b.totals.requests, 0, "team B sees none of team A's requests");
  assert.deepEqual(b.recent, []);
  // Team B's DELETE clears nothing of team A's.
  const del = await fetch(`${t.gw.url}/api/v1/cache`, {
    method: "DELETE",
    headers: as(KEY_B, { "x-team": "team-a" }),
  });
  assert.equal(del.status, 200);
  assert.equal((await del.json()).deleted, 0);
  assert.equal((await lookup(KEY_A)).json.hit, true);
});

Deno.test("keys: over its request quota a key gets 429 with Retry-After in its own protocol", async () => {
  await using t = await setup({
    gateway_keys: [entry(KEY_A, "team-a", { requests_per_window: 2, window_secs: 3600 })],
  });
  const q = chat("Say hi");
  assert.equal((await send(t.gw.url, q, as(KEY_A))).status, 200);
  assert.equal((await send(t.gw.url, q, as(KEY_A))).status, 200);
  const openai = await send(t.gw.url, q, as(KEY_A));
  assert.equal(openai.status, 429);
  assert.equal(openai.json.error.type, "rate_limit_error");
  assert.match(openai.json.error.message, /over its quota of 2 requests per 3600s/);
  const retry = Number(openai.headers.get("retry-after"));
  assert.ok(retry >= 1 && retry <= 3600, `Retry-After ${retry}`);
  const anthropic = await send(
    t.gw.url,
    { model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "hi" }] },
    { "x-api-key": KEY_A },
    "/v1/messages",
  );
  assert.equal(anthropic.status, 429);
  assert.equal(anthropic.json.type, "error");
  assert.equal(anthropic.json.error.type, "rate_limit_error");
  const gemini = await send(
    t.gw.url,
    { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
    { "x-goog-api-key": KEY_A },
    `/v1beta/models/${MODEL}:generateContent`,
  );
  assert.equal(gemini.status, 429);
  assert.equal(gemini.json.error.status, "RESOURCE_EXHAUSTED");
  assert.ok(gemini.headers.get("retry-after"));
  // The admin API is not a model request: not counted, not refused.
  const stats = await fetch(`${t.gw.url}/api/v1/stats`, { headers: as(KEY_A) });
  assert.equal(stats.status, 200);
  await stats.body?.cancel();
});

Deno.test("keys: a token quota counts the provider tokens of L3 answers", async () => {
  await using t = await setup({
    cache_mode: "exact",
    gateway_keys: [entry(KEY_A, "team-a", { tokens_per_window: 1, window_secs: 60 })],
  });
  const q = chat("Tell me a fact");
  const first = await send(t.gw.url, q, as(KEY_A));
  assert.equal(first.layer, "l3");
  assert.ok(first.json.usage.total_tokens > 1);
  // The quota is spent; even a request the cache could answer is refused until the window ends.
  const over = await send(t.gw.url, chat("Another question"), as(KEY_A));
  assert.equal(over.status, 429);
  assert.match(over.json.error.message, /provider tokens/);
});
