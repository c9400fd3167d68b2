// The Copilot token exchange against the mock GitHub on 127.0.0.1, with an injected clock.
import assert from "node:assert/strict";
import { CopilotTokens, ProviderAuthError } from "../../../src/providers/copilot_token.ts";
import { COPILOT_HEADERS } from "../../../src/providers/table.ts";
import { startMockGithub } from "../../support/mock_github.ts";

function tokensFor(url: string, clock: { now: number }, allow = (_: string) => true) {
  return new CopilotTokens({
    tokenUrl: `${url}/copilot_internal/v2/token`,
    headers: COPILOT_HEADERS,
    allowBase: allow,
    now: () => clock.now,
  });
}

Deno.test("copilot token: exchanged once, with GitHub's token scheme and the editor headers", async () => {
  await using gh = startMockGithub({ apiBase: "http://127.0.0.1:1/individual/" });
  const clock = { now: Date.now() };
  const tokens = tokensFor(gh.url, clock);
  const [a, b] = await Promise.all([
    tokens.session("gho_mock_token"),
    tokens.session("gho_mock_token"),
  ]);
  assert.equal(a.token, "cop-1");
  assert.equal(b.token, "cop-1", "concurrent callers share one exchange");
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-1", "cached");
  assert.equal(tokens.exchanges, 1);
  assert.equal(a.apiBase, "http://127.0.0.1:1/individual");
  const h = gh.seen[0].headers;
  assert.equal(h.authorization, "token gho_mock_token");
  assert.equal(h["editor-version"], COPILOT_HEADERS["editor-version"]);
  assert.equal(h["copilot-integration-id"], "vscode-chat");
});

Deno.test("copilot token: refreshed after refresh_in, before it expires", async () => {
  await using gh = startMockGithub({ ttlSecs: 1800, refreshInSecs: 1500 });
  const clock = { now: Date.now() };
  const tokens = tokensFor(gh.url, clock);
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-1");
  clock.now += 1499_000;
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-1");
  clock.now += 2_000; // past refresh_in, 299 s before expiry
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-2");
  assert.equal(tokens.exchanges, 2);
});

Deno.test("copilot token: without refresh_in, exchanged a minute before expires_at", async () => {
  await using gh = startMockGithub({ ttlSecs: 600, refreshInSecs: null });
  const clock = { now: Date.now() };
  const tokens = tokensFor(gh.url, clock);
  const s = await tokens.session("gho_mock_token");
  assert.equal(s.refreshAt, s.expiresAt - 60_000);
  clock.now = s.refreshAt - 1;
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-1");
  clock.now = s.refreshAt;
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-2");
});

Deno.test("copilot token: an early refresh that fails keeps the still-valid token", async () => {
  await using gh = startMockGithub({ ttlSecs: 1800, refreshInSecs: 1500 });
  const clock = { now: Date.now() };
  const tokens = tokensFor(gh.url, clock);
  await tokens.session("gho_mock_token");
  clock.now += 1600_000;
  gh.failNext(502);
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-1");
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-2", "the next call refreshes");
});

Deno.test("copilot token: invalidate forgets a refused token; a newer one stays", async () => {
  await using gh = startMockGithub();
  const tokens = tokensFor(gh.url, { now: Date.now() });
  await tokens.session("gho_mock_token");
  tokens.invalidate("gho_mock_token", "cop-1");
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-2");
  tokens.invalidate("gho_mock_token", "cop-1"); // stale: cop-2 stays
  assert.equal((await tokens.session("gho_mock_token")).token, "cop-2");
});

Deno.test("copilot token: refused tokens and missing subscriptions say how to sign in again", async () => {
  await using gh = startMockGithub();
  const tokens = tokensFor(gh.url, { now: Date.now() });
  await assert.rejects(tokens.session("gho_wrong"), (e: unknown) => {
    assert.ok(e instanceof ProviderAuthError);
    assert.equal(e.kind, "refused");
    assert.match(e.message, /Bad credentials.*set-key -p copilot --device/);
    return true;
  });
  gh.failNext(404);
  await assert.rejects(
    tokens.session("gho_mock_token"),
    /no Copilot token \(HTTP 404.*subscription/,
  );
  gh.failNext(500);
  await assert.rejects(
    tokens.session("gho_mock_token"),
    (e: unknown) => e instanceof ProviderAuthError && e.kind === "unavailable",
  );
});

Deno.test("copilot token: an API base on a host not allowed is ignored", async () => {
  await using gh = startMockGithub({ apiBase: "https://api.evil.example" });
  const tokens = tokensFor(gh.url, { now: Date.now() }, (u) => !u.includes("evil"));
  assert.equal((await tokens.session("gho_mock_token")).apiBase, null);
});

Deno.test("copilot token: GitHub unreachable is 'unavailable'", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const tokens = tokensFor(`http://127.0.0.1:${port}`, { now: Date.now() });
  await assert.rejects(tokens.session("gho_mock_token"), /cannot reach 127\.0\.0\.1/);
});
