// `isartor set-key -p copilot --device` and `isartor connect claude-copilot --device` as
// subprocesses on a temporary HOME, signing in against the mock GitHub on 127.0.0.1, then the
// stored token serving a gateway built from the same config.
import assert from "node:assert/strict";
import { createGateway } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load.ts";
import { isartor } from "../support/cli_runner.ts";
import { MOCK_USER_CODE, startMockGithub } from "../support/mock_github.ts";
import { DEFAULT_ANSWER_TEXT, startMockUpstream } from "../support/mock_upstream.ts";

const TOKEN = "gho_mock_token";

Deno.test("set-key -p copilot --device: signs in, stores the GitHub token 0600", async () => {
  await using gh = startMockGithub({
    interval: 0,
    polls: [{ error: "authorization_pending" }, { access_token: TOKEN }],
  });
  const home = await Deno.makeTempDir({ prefix: "isartor-copilot-" });
  try {
    const r = await isartor(["set-key", "-p", "copilot", "--device", "--json"], {
      HOME: home,
      ISARTOR__COPILOT_GITHUB_URL: gh.url,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`enter the code ${MOCK_USER_CODE}`));
    assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN), "the token is never printed");
    const path = `${home}/.isartor/credentials`;
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const stored = JSON.parse(await Deno.readTextFile(path));
    assert.equal(stored.llm_provider, "copilot");
    assert.equal(stored.external_llm_api_key, TOKEN);
    assert.equal(stored.external_llm_model, "claude-sonnet-4.5");

    const wrong = await isartor(["set-key", "-p", "groq", "--device"], { HOME: home });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--device signs in to GitHub: it is for -p copilot/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("set-key -p copilot --device: an expired code stores nothing", async () => {
  await using gh = startMockGithub({ interval: 0, polls: [{ error: "expired_token" }] });
  const home = await Deno.makeTempDir({ prefix: "isartor-copilot-" });
  try {
    const r = await isartor(["set-key", "-p", "copilot", "--device"], {
      HOME: home,
      ISARTOR__COPILOT_GITHUB_URL: gh.url,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /code expired/);
    await assert.rejects(Deno.stat(`${home}/.isartor/credentials`));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("connect claude-copilot --device: Claude Code's settings and the copilot provider, served, undone", async () => {
  await using gh = startMockGithub({ interval: 0 });
  const copilot = await startMockUpstream();
  const home = await Deno.makeTempDir({ prefix: "isartor-copilot-" });
  const env = { HOME: home, ISARTOR__COPILOT_GITHUB_URL: gh.url };
  try {
    const r = await isartor(["connect", "claude-copilot", "--device"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(MOCK_USER_CODE));
    const settings = JSON.parse(await Deno.readTextFile(`${home}/.claude/settings.json`));
    assert.match(settings.env.ANTHROPIC_BASE_URL, /^http:\/\/127\.0\.0\.1:/);
    const credentials = `${home}/.isartor/credentials`;
    assert.equal((await Deno.stat(credentials)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${home}/.isartor`)).mode! & 0o777, 0o700);
    assert.doesNotMatch(r.stderr, /readable by other users/);

    // A gateway loading that configuration (token URL and Copilot API at the mocks) answers
    // an Anthropic request from the Copilot mock.
    const { config } = loadConfig({
      env: {
        ISARTOR__DATA_DIR: `${home}/.isartor`,
        ISARTOR__COPILOT_TOKEN_URL: `${gh.url}/copilot_internal/v2/token`,
        ISARTOR__EXTERNAL_LLM_URL: copilot.url,
        ISARTOR__CACHE_MODE: "off",
      },
      home,
      cwd: home,
      stored: JSON.parse(await Deno.readTextFile(credentials)),
    });
    assert.equal(config.llm_provider, "copilot");
    const gateway = createGateway(config);
    try {
      const res = await gateway.fetch(
        new Request("http://127.0.0.1:8080/v1/messages", {
          method: "POST",
          headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify({
            model: "claude-sonnet-4-5",
            max_tokens: 32,
            messages: [{ role: "user", content: "hi" }],
          }),
        }),
      );
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.content[0].text, DEFAULT_ANSWER_TEXT);
      assert.equal(copilot.requests[0].headers.authorization, "Bearer cop-1");
    } finally {
      await gateway.close();
    }

    const undo = await isartor(["connect", "claude-copilot", "--disconnect"], env);
    assert.equal(undo.code, 0, undo.stderr);
    await assert.rejects(Deno.stat(credentials), "the credentials file we created is gone");
    await assert.rejects(Deno.stat(`${home}/.claude/settings.json`));
  } finally {
    await copilot.close();
    await Deno.remove(home, { recursive: true });
  }
});
