// The `copilot` L3 provider end to end: an Anthropic client -> the gateway -> a mock GitHub
// (token exchange) and a mock Copilot API (OpenAI chat), all on 127.0.0.1.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { COPILOT_HEADERS } from "../../src/providers/table.ts";
import { allowedHosts } from "../../cli/permissions.ts";
import { probeTarget } from "../../cli/probe.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { startMockGithub } from "../support/mock_github.ts";
import { DEFAULT_ANSWER_TEXT, startMockUpstream } from "../support/mock_upstream.ts";

const GH_TOKEN = "gho_mock_token";

async function rig(opts: { ttlSecs?: number; keys?: string[] } = {}) {
  const copilot = await startMockUpstream();
  // The token names the account's API base, as GitHub's does (api.individual...).
  const github = startMockGithub({ apiBase: `${copilot.url}/individual`, ttlSecs: opts.ttlSecs });
  const gw = await startGateway({
    llm_provider: "copilot",
    external_llm_url: copilot.url,
    external_llm_model: "claude-sonnet-4.5",
    ...(opts.keys
      ? { provider_keys: opts.keys.map((key, i) => ({ key, label: `k${i}` })) }
      : { external_llm_api_key: GH_TOKEN }),
    copilot_token_url: `${github.url}/copilot_internal/v2/token`,
    l3_max_retries: 0,
  });
  return {
    copilot,
    github,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await github.close();
      await copilot.close();
    },
  };
}

function messages(url: string, body: Record<string, unknown>) {
  return fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "x-api-key": "isartor-local",
      "user-agent": "claude-cli/2.1.332 (external, cli)",
    },
    body: JSON.stringify({
      model: "claude-sonnet-4-5-20250929",
      max_tokens: 64,
      messages: [{ role: "user", content: "Say hello." }],
      ...body,
    }),
  });
}

Deno.test("copilot: an Anthropic request reaches Copilot's chat endpoint translated, with its token and headers", async () => {
  await using r = await rig();
  const res = await messages(r.gw.url, { system: "Be brief." });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(res.headers.get("x-isartor-provider"), "copilot");
  assert.equal(body.type, "message");
  assert.equal(body.role, "assistant");
  assert.equal(body.content[0].text, DEFAULT_ANSWER_TEXT);

  const seen = r.copilot.requests.at(-1)!;
  assert.equal(seen.path, "/individual/chat/completions", "the API base the token named");
  assert.equal(seen.headers.authorization, "Bearer cop-1");
  for (const [k, v] of Object.entries(COPILOT_HEADERS)) assert.equal(seen.headers[k], v, k);
  assert.equal(seen.headers["x-api-key"], undefined);
  const sent = seen.body as { model: string; messages: { role: string; content: unknown }[] };
  assert.equal(sent.model, "claude-sonnet-4.5", "Copilot's model name");
  assert.deepEqual(sent.messages.map((m) => m.role), ["system", "user"]);
  // The GitHub token went only to GitHub, in its `token` scheme.
  assert.equal(r.github.seen.length, 1);
  assert.equal(r.github.seen[0].headers.authorization, `token ${GH_TOKEN}`);
  assert.ok(!JSON.stringify(r.copilot.requests).includes(GH_TOKEN));
});

Deno.test("copilot: a streamed Anthropic request comes back as Anthropic events", async () => {
  await using r = await rig();
  const res = await messages(r.gw.url, { stream: true });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /event: message_start/);
  assert.match(text, /event: message_stop/);
  const deltas = [...text.matchAll(/"text":"([^"]*)"/g)].map((m) => m[1]).join("");
  assert.equal(deltas, DEFAULT_ANSWER_TEXT);
  assert.equal((r.copilot.requests.at(-1)!.body as { stream: boolean }).stream, true);
});

Deno.test("copilot: one exchange serves many requests; a token near expiry is exchanged before use", async () => {
  await using fresh = await rig();
  for (let i = 0; i < 3; i++) await (await messages(fresh.gw.url, {})).body?.cancel();
  assert.deepEqual(fresh.github.issued, ["cop-1"]);

  // Tokens that expire within the minute's margin are renewed before each use.
  await using short = await rig({ ttlSecs: 30 });
  await (await messages(short.gw.url, {})).body?.cancel();
  await (await messages(short.gw.url, {})).body?.cancel();
  assert.deepEqual(short.github.issued, ["cop-1", "cop-2"]);
  assert.deepEqual(
    short.copilot.requests.map((q) => q.headers.authorization),
    ["Bearer cop-1", "Bearer cop-2"],
  );
});

Deno.test("copilot: a 401 from Copilot exchanges the token again and retries once", async () => {
  await using r = await rig();
  await (await messages(r.gw.url, {})).body?.cancel();
  r.copilot.enqueue({ kind: "error", status: 401, body: { error: { message: "token expired" } } });
  const res = await messages(r.gw.url, {});
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(
    r.copilot.requests.map((q) => q.headers.authorization),
    ["Bearer cop-1", "Bearer cop-1", "Bearer cop-2"],
  );
  // A second 401 in a row is the answer: no loop.
  r.copilot.enqueue(
    { kind: "error", status: 401, body: { error: { message: "no" } } },
    { kind: "error", status: 401, body: { error: { message: "no" } } },
  );
  const again = await messages(r.gw.url, {});
  await again.body?.cancel();
  assert.equal(again.status, 401);
  assert.equal(r.github.issued.length, 3);
});

Deno.test("copilot: a refused GitHub token is a 502 in the client's protocol that says how to sign in", async () => {
  await using r = await rig({ keys: ["gho_revoked"] });
  const res = await messages(r.gw.url, {});
  const body = await res.json();
  assert.equal(res.status, 502);
  assert.equal(body.type, "error");
  assert.match(body.error.message, /GitHub refused the stored token.*set-key -p copilot --device/);
  assert.equal(r.copilot.requests.length, 0, "nothing reached Copilot");
});

Deno.test("copilot: the next GitHub token of the pool is tried when one is refused", async () => {
  await using r = await rig({ keys: ["gho_revoked", GH_TOKEN] });
  const res = await messages(r.gw.url, {});
  await res.body?.cancel();
  assert.equal(res.status, 200);
  assert.equal(r.copilot.requests.at(-1)!.headers.authorization, "Bearer cop-1");
});

Deno.test("copilot: its hosts join the network allow-list only when it is configured", () => {
  const on = allowedHosts(parseConfig({ llm_provider: "copilot", external_llm_api_key: "gho_x" }));
  for (
    const h of [
      "api.github.com:443",
      "api.githubcopilot.com:443",
      "api.individual.githubcopilot.com:443",
      "api.business.githubcopilot.com:443",
    ]
  ) assert.ok(on.includes(h), `${h} in ${on}`);
  const off = allowedHosts(parseConfig({ llm_provider: "openai" }));
  assert.ok(!off.some((h) => h.includes("github")), off.join(","));
  const fallback = allowedHosts(parseConfig({
    llm_provider: "openai",
    fallback_providers: [{ provider: "copilot", api_key: "gho_x" }],
  }));
  assert.ok(fallback.includes("api.github.com:443"));
});

Deno.test("copilot: /v1/models and isartor check's probe use the exchanged token", async () => {
  await using r = await rig();
  const res = await fetch(`${r.gw.url}/v1/models`);
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.ok(Array.isArray(body.data) && body.data.length > 0);
  const seen = r.copilot.requests.at(-1)!;
  assert.equal(`${seen.method} ${seen.path}`, "GET /individual/models");
  assert.equal(seen.headers.authorization, "Bearer cop-1");

  const probe = await probeTarget(r.gw.gateway.targets[0], 5);
  assert.equal(probe.status, "ok", probe.message);
  assert.equal(probe.endpoint, `${r.copilot.url}/individual/models`);
  assert.equal(probe.key, "gho_…oken");
});

Deno.test("copilot: isartor check says a refused GitHub token plainly", async () => {
  await using r = await rig({ keys: ["gho_revoked_token"] });
  const probe = await probeTarget(r.gw.gateway.targets[0], 5);
  assert.equal(probe.status, "http");
  assert.match(probe.message, /GitHub refused the stored token/);
});
