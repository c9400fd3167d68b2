// Claude Code (the real CLI from npm) through the gateway, against the mock provider.
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, type AgentRig, startAgentRig } from "../../support/agent_harness.ts";
import { type AgentAnswer, agentScenario } from "../../support/agent_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`claude code: skipped: ${skip}`);

/** Claude Code's settings: the gateway as its base URL, no telemetry, no updater. */
function claudeEnv(rig: AgentRig): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: rig.url,
    ANTHROPIC_API_KEY: "sk-ant-client-key",
    CLAUDE_CONFIG_DIR: `${rig.home}/.claude`,
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_BUG_COMMAND: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
}

async function claude(rig: AgentRig, prompt: string): Promise<AgentAnswer> {
  const bin = await ensureCli("claude");
  const r = await rig.run(bin, [
    "-p",
    prompt,
    "--output-format",
    "json",
    "--allowedTools",
    "Bash(echo:*)",
  ], { env: claudeEnv(rig) });
  let result = "";
  try {
    result = String(JSON.parse(r.stdout).result ?? "");
  } catch { /* the scenario shows stdout */ }
  return { ...r, result };
}

Deno.test({
  name: "claude code (default model) through an anthropic provider: answers, tool loop, L1a re-run",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "anthropic" });
    await agentScenario(rig, {
      label: "claude code",
      tool: "Claude Code",
      ask: (p) => claude(rig, p),
    });
  },
});

Deno.test({
  name: "claude code through an openai-compatible provider: answers, tool loop, L1a re-run",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "openai_compatible" });
    await agentScenario(rig, {
      label: "claude code via openai-compatible",
      tool: "Claude Code",
      ask: (p) => claude(rig, p),
    });
  },
});
