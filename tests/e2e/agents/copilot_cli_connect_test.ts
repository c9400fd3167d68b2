// `isartor connect copilot` for real: Copilot CLI takes its own model provider (BYOK) from the
// environment only, so connect writes a file to source (`<data_dir>/connect/copilot.env`) and
// registers the isartor MCP server in ~/.copilot/mcp-config.json (the user's other servers
// stay). The real Copilot CLI (from npm) then runs in a shell that sourced that file and nothing
// else (only the rig's HOME, PATH and refusing egress proxy) and is answered through the
// gateway; afterwards `--disconnect` puts mcp-config.json back byte for byte.
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, startAgentRig } from "../../support/agent_harness.ts";
import { cliEnv } from "../../support/cli_runner.ts";
import { connectScenario } from "../../support/connect_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`copilot cli connect: skipped: ${skip}`);

/** The user's own MCP servers before connect. */
const USER_MCP = `{
  "mcpServers": {
    // my own server
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

/** Where connect writes the variables, under HOME. */
const ENV_FILE = ".isartor/connect/copilot.env";

Deno.test({
  name:
    "connect copilot: the real Copilot CLI reaches the gateway from connect's env file alone; disconnect is byte-identical",
  ignore: skip !== null,
  async fn() {
    const bin = await ensureCli("copilot");
    await using rig = await startAgentRig({ provider: "openai" });
    // The isartor MCP server connect registered is started by Copilot through Deno; a user's
    // Deno cache lives in their HOME, the rig's HOME is new: hand it the suite's cache (and
    // Deno's update check off), which says nothing about the gateway.
    const { DENO_DIR } = await cliEnv({});
    await connectScenario(rig, {
      tool: "copilot",
      label: "copilot cli",
      userFiles: [{ path: ".copilot/mcp-config.json", text: USER_MCP, comments: [/my own/] }],
      created: [ENV_FILE],
      connectArgs: ["--model", "gpt-5.5"],
      route: "/v1/chat/completions",
      refusedAllowed: REFUSED_WITHOUT_LOGIN,
      // What the user does after connect: source the file, then run copilot.
      ask: async (prompt) => {
        const run = await rig.run("sh", [
          "-c",
          `. "$1" && exec "$2" -p "$3" --silent --allow-all-tools --no-auto-update`,
          "sh",
          `${rig.home}/${ENV_FILE}`,
          bin,
          prompt,
        ], { env: { DENO_DIR, DENO_NO_UPDATE_CHECK: "1" } });
        return { ...run, result: run.stdout };
      },
    });
  },
});
