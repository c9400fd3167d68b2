// `isartor connect copilot` for real: Copilot CLI takes its own model provider (BYOK) from the
// environment only, so connect writes a file to source (`<data_dir>/connect/copilot.env`) and
// registers the isartor MCP server in ~/.copilot/mcp-config.json (the user's other servers
// stay). The real Copilot CLI (from npm) then runs in a shell that sourced that file and nothing
// else (only the rig's HOME, PATH and refusing egress proxy) and is answered through the
// gateway; afterwards `--disconnect` puts mcp-config.json back byte for byte.
import assert from "node:assert/strict";
import { ensureCli } from "../../support/agent_clis.ts";
import {
  agentClisSkipped,
  assertRun,
  describeRun,
  startAgentRig,
} from "../../support/agent_harness.ts";
import { cliEnv as runnerEnv, isartor } from "../../support/cli_runner.ts";
import { DEFAULT_ANSWER_TEXT } from "../../support/mock_upstream.ts";

const skip = agentClisSkipped();
if (skip) console.log(`copilot cli connect: skipped: ${skip}`);

/** The user's own MCP servers before connect. */
const USER_MCP = `{
  "mcpServers": {
    "mine": { "type": "local", "command": "true", "args": [], "tools": ["*"] }
  }
}
`;

/**
 * Without a GitHub login Copilot CLI still asks api.github.com on start (its GitHub MCP server
 * and account check); COPILOT_OFFLINE=true would stop it but also its web tools, so connect
 * leaves that choice to the user. Refused by the proxy, the run goes on.
 */
const REFUSED_WITHOUT_LOGIN = ["api.github.com:443"];

Deno.test({
  name:
    "connect copilot: the real Copilot CLI reaches the gateway from connect's env file alone; disconnect is byte-identical",
  ignore: skip !== null,
  async fn() {
    const bin = await ensureCli("copilot");
    await using rig = await startAgentRig({ provider: "openai" });
    const mcp = `${rig.home}/.copilot/mcp-config.json`;
    await Deno.mkdir(`${rig.home}/.copilot`, { recursive: true });
    await Deno.writeTextFile(mcp, USER_MCP);
    const before = await Deno.readFile(mcp);
    const cliEnv = { HOME: rig.home, XDG_CONFIG_HOME: `${rig.home}/.config` };

    const connected = await isartor(
      ["connect", "copilot", "--gateway-url", rig.url, "--model", "gpt-5.5"],
      cliEnv,
    );
    assert.equal(connected.code, 0, connected.stderr);
    console.log(connected.stdout.trim().split("\n").map((l) => `  connect: ${l}`).join("\n"));
    const envFile = `${rig.home}/.isartor/connect/copilot.env`;
    assert.match(connected.stdout, new RegExp(`\\. ${envFile.replaceAll(".", "\\.")}`));
    const mcpNow = JSON.parse(await Deno.readTextFile(mcp));
    assert.ok(mcpNow.mcpServers.mine && mcpNow.mcpServers.isartor);

    // What the user does after connect: source the file, then run copilot. No other variable.
    const run = await rig.run("sh", [
      "-c",
      `. "$1" && exec "$2" -p "Say hello." --silent --allow-all-tools --no-auto-update`,
      "sh",
      envFile,
      bin,
    ], {
      // The isartor MCP server connect registered is started by Copilot through Deno; a user's
      // Deno cache lives in their HOME, the rig's HOME is new: hand it the suite's cache (and
      // Deno's update check off), which says nothing about the gateway.
      env: {
        DENO_DIR: (await runnerEnv({})).DENO_DIR,
        DENO_NO_UPDATE_CHECK: "1",
      },
    });
    console.log(describeRun("copilot cli after connect", run));
    assertRun(run.code === 0 && run.stdout.includes(DEFAULT_ANSWER_TEXT), run, "answered");
    assertRun(
      run.wire.some((w) => w.path.startsWith("/v1/chat/completions")),
      run,
      "through the gateway",
    );
    assertRun(run.layers.l3 > 0 && run.upstream > 0, run, "the gateway asked the provider (L3)");
    const other = run.refused.filter((h) => !REFUSED_WITHOUT_LOGIN.includes(h));
    assertRun(other.length === 0, run, `no other host (refused ${run.refused.join(", ")})`);

    const undo = await isartor(["connect", "copilot", "--disconnect"], cliEnv);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /restored/);
    assert.deepEqual(await Deno.readFile(mcp), before, "mcp-config.json byte for byte");
    await assert.rejects(Deno.stat(envFile), "the env file connect created is gone");
  },
});
