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
