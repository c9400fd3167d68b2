// `isartor connect claude` for real: the command edits Claude Code's settings on a temporary
// HOME, the real Claude Code CLI (from npm) then runs with no environment of its own (only the
// rig's HOME, PATH and refusing egress proxy) and is answered through the gateway; afterwards
// `--disconnect` puts the settings file back byte for byte.
import assert from "node:assert/strict";
import { ensureCli } from "../../support/agent_clis.ts";
import {
  agentClisSkipped,
  assertRun,
  describeRun,
  startAgentRig,
} from "../../support/agent_harness.ts";
import { isartor } from "../../support/cli_runner.ts";
import { AFTER_TOOL_PREFIX, TOOL_LOOP_TRIGGER } from "../../support/agent_script.ts";
import { startMockGithub } from "../../support/mock_github.ts";
import { DEFAULT_ANSWER_TEXT } from "../../support/mock_upstream.ts";

const skip = agentClisSkipped();
if (skip) console.log(`claude code connect: skipped: ${skip}`);

/** The user's own settings before connect: comments are not JSON here, but layout and keys are theirs. */
const USER_SETTINGS = `{
    "permissions": {
        "allow": ["Bash(echo:*)"]
    },
    "env": {
        "MY_OWN_VAR": "kept"
    },
    "includeCoAuthoredBy": false
}
`;

Deno.test({
  name:
    "connect claude: the real Claude Code reaches the gateway from its settings alone; disconnect is byte-identical",
  ignore: skip !== null,
  async fn() {
    const bin = await ensureCli("claude");
    await using rig = await startAgentRig({ provider: "anthropic" });
    const settings = `${rig.home}/.claude/settings.json`;
    await Deno.mkdir(`${rig.home}/.claude`, { recursive: true });
    await Deno.writeTextFile(settings, USER_SETTINGS);
    const before = await Deno.readFile(settings);
    const cliEnv = { HOME: rig.home, XDG_CONFIG_HOME: `${rig.home}/.config` };

    const connected = await isartor(["connect", "claude", "--gateway-url", rig.url], cliEnv);
    assert.equal(connected.code, 0, connected.stderr);
    console.log(connected.stdout.trim().split("\n").map((l) => `  connect: ${l}`).join("\n"));
    const written = JSON.parse(await Deno.readTextFile(settings));
    assert.equal(written.env.ANTHROPIC_BASE_URL, rig.url);
    assert.equal(written.env.MY_OWN_VAR, "kept");

    // No ANTHROPIC_* variable, no --settings: only what connect wrote.
    const run = await rig.run(bin, ["-p", "Say hello.", "--output-format", "json"]);
    console.log(describeRun("claude code after connect", run));
    let result = "";
    try {
      result = String(JSON.parse(run.stdout).result ?? "");
    } catch { /* assertRun shows stdout */ }
    assertRun(run.code === 0 && result.includes(DEFAULT_ANSWER_TEXT), run, "answered");
    assertRun(run.wire.some((w) => w.path.startsWith("/v1/messages")), run, "through the gateway");
    assertRun(run.upstream > 0, run, "the gateway asked the provider");

    const status = await isartor(["connect", "status", "--json", "--gateway-url", rig.url], cliEnv);
    assert.equal(status.code, 0, status.stderr);
    const claude = JSON.parse(status.stdout).tools.find((t: { tool: string }) =>
      t.tool === "claude"
    );
    assert.equal(claude.connected, true);
    assert.equal(claude.test.protocol, "anthropic");
    assert.equal(claude.test.ok, true, JSON.stringify(claude.test));

    const undo = await isartor(["connect", "claude", "--disconnect"], cliEnv);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /restored/);
    assert.deepEqual(await Deno.readFile(settings), before, "settings.json byte for byte");
  },
});

Deno.test({
  name:
    "connect claude-copilot: the real Claude Code served by the copilot provider, tool loop included",
  ignore: skip !== null,
  async fn() {
    const bin = await ensureCli("claude");
    await using github = startMockGithub();
    // The gateway as `connect claude-copilot` configures it: provider copilot with the GitHub
    // token, here pointed at the mock GitHub and at the rig's mock as Copilot's chat API.
    await using rig = await startAgentRig({
      provider: "copilot",
      config: {
        external_llm_api_key: "gho_mock_token",
        external_llm_model: "claude-sonnet-4.5",
        copilot_token_url: `${github.url}/copilot_internal/v2/token`,
      },
    });
    const cliEnv = { HOME: rig.home, GITHUB_TOKEN: "gho_mock_token" };
    const connected = await isartor(
      ["connect", "claude-copilot", "--gateway-url", rig.url],
      cliEnv,
    );
    assert.equal(connected.code, 0, connected.stderr);
    const stored = JSON.parse(await Deno.readTextFile(`${rig.home}/.isartor/credentials`));
    assert.equal(stored.llm_provider, "copilot");
    assert.equal(stored.external_llm_api_key, "gho_mock_token");

    const first = await rig.run(bin, ["-p", "Say hello.", "--output-format", "json"]);
    console.log(describeRun("claude code on copilot", first));
    assertRun(first.code === 0 && first.stdout.includes(DEFAULT_ANSWER_TEXT), first, "answered");

    const prompt = `${TOOL_LOOP_TRIGGER}: run \`${rig.loop.command}\` and tell me what it printed.`;
    const loop = await rig.run(bin, [
      "-p",
      prompt,
      "--output-format",
      "json",
      "--allowedTools",
      "Bash(echo:*)",
    ]);
    console.log(describeRun("claude code on copilot, tool loop", loop));
    assertRun(
      loop.code === 0 && loop.stdout.includes(`${AFTER_TOOL_PREFIX} isartor-tool-ok`),
      loop,
      "tool loop",
    );
    // Every upstream call was Copilot's chat endpoint with an exchanged token.
    const upstream = rig.mock.requests.filter((r) => r.method === "POST");
    assert.ok(upstream.length >= 3, String(upstream.length));
    for (const r of upstream) {
      assert.equal(r.path, "/v1/chat/completions");
      assert.equal(r.headers.authorization, "Bearer cop-1");
      assert.equal(r.headers["copilot-integration-id"], "vscode-chat");
    }
    assert.deepEqual(github.issued, ["cop-1"]);

    const undo = await isartor(["connect", "claude-copilot", "--disconnect"], cliEnv);
    assert.equal(undo.code, 0, undo.stderr);
    await assert.rejects(Deno.stat(`${rig.home}/.isartor/credentials`));
  },
});
