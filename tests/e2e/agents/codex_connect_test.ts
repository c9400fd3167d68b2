// `isartor connect codex` for real: connect edits Codex's config.toml on a temporary HOME (the
// user's own settings and comments stay), the real Codex CLI (from npm) then runs with no
// environment of its own (only the rig's HOME, PATH and refusing egress proxy) and is answered
// through the gateway; afterwards `--disconnect` puts config.toml back byte for byte.
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, startAgentRig } from "../../support/agent_harness.ts";
import { connectScenario } from "../../support/connect_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`codex connect: skipped: ${skip}`);

/** The user's own config before connect, comments included. */
const USER_CONFIG = `# my codex settings
model_reasoning_effort = "low" # keep it quick

[tui]
# no desktop notifications
notifications = false
`;

Deno.test({
  name:
    "connect codex: the real Codex reaches the gateway from config.toml alone; disconnect is byte-identical",
  ignore: skip !== null,
  async fn() {
    const bin = await ensureCli("codex");
    await using rig = await startAgentRig({ provider: "openai" });
    await connectScenario(rig, {
      tool: "codex",
      label: "codex",
      userFiles: [{
        path: ".codex/config.toml",
        text: USER_CONFIG,
        comments: [/# keep it quick/, /# no desktop notifications/],
      }],
      route: "/v1/responses",
      // No OPENAI_* or CODEX_* variable: only what connect wrote.
      ask: async (prompt) => {
        const run = await rig.run(bin, [
          "exec",
          "--json",
          "--skip-git-repo-check",
          // The rig is the sandbox: Codex's own (bubblewrap/landlock) is not on every machine.
          "--dangerously-bypass-approvals-and-sandbox",
          prompt,
        ]);
        let result = "";
        for (const line of run.stdout.split("\n")) {
          try {
            const ev = JSON.parse(line);
            if (ev.type === "item.completed" && ev.item?.type === "agent_message") {
              result = ev.item.text;
            }
          } catch { /* not an event */ }
        }
        return { ...run, result };
      },
    });
  },
});
