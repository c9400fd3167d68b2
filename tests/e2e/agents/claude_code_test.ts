// Claude Code (the real CLI from npm) through the gateway, against the mock provider.
import { ensureCli } from "../../support/agent_clis.ts";
import {
  agentClisSkipped,
  type AgentRig,
  claudeCodeEnv,
  startAgentRig,
} from "../../support/agent_harness.ts";
import { type AgentAnswer, agentScenario } from "../../support/agent_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`claude code: skipped: ${skip}`);

async function claude(rig: AgentRig, prompt: string): Promise<AgentAnswer> {
  const bin = await ensureCli("claude");
  const r = await rig.run(bin, [
    "-p",
    prompt,
    "--output-format",
    "json",
    "--allowedTools",
    "Bash(echo:*)",
  ], { env: claudeCodeEnv(rig) });
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
