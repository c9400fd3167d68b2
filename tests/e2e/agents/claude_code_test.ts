// Claude Code (the real CLI from npm) through the gateway, against the mock provider.
import { ensureCli } from "../../support/agent_clis.ts";
import {
  agentClisSkipped,
  type AgentRig,
  assertAllFromL1a,
  assertRun,
  describeRun,
  startAgentRig,
} from "../../support/agent_harness.ts";
import { AFTER_TOOL_PREFIX, TOOL_LOOP_TRIGGER } from "../../support/agent_script.ts";
import { DEFAULT_ANSWER_TEXT } from "../../support/mock_upstream.ts";

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

async function claude(rig: AgentRig, prompt: string, extra: string[] = []) {
  const bin = await ensureCli("claude");
  const r = await rig.run(bin, [
    "-p",
    prompt,
    "--output-format",
    "json",
    "--allowedTools",
    "Bash(echo:*)",
    ...extra,
  ], { env: claudeEnv(rig) });
  let result = "";
  try {
    result = String(JSON.parse(r.stdout).result ?? "");
  } catch { /* assertRun shows stdout */ }
  return { ...r, result };
}

async function scenario(rig: AgentRig, label: string, extra: string[] = []) {
  const first = await claude(rig, "Say hello.", extra);
  console.log(describeRun(`${label} first run`, first));
  assertRun(first.code === 0 && first.result.includes(DEFAULT_ANSWER_TEXT), first, "first run");

  const loopPrompt =
    `${TOOL_LOOP_TRIGGER}: run \`${rig.loop.command}\` and tell me what it printed.`;
  const loop = await claude(rig, loopPrompt, extra);
  console.log(describeRun(`${label} tool loop`, loop));
  assertRun(
    loop.code === 0 && loop.result.includes(`${AFTER_TOOL_PREFIX} isartor-tool-ok`),
    loop,
    "tool loop",
  );
  assertRun(rig.loop.steps.some((s) => s.step === "tool_call" && s.tool === "Bash"), loop, "Bash");

  const again = await claude(rig, loopPrompt, extra);
  console.log(describeRun(`${label} second run`, again));
  assertRun(again.code === 0 && again.result === loop.result, again, "second run");
  assertAllFromL1a(again, `${label} second run`);
  if (first.refused.length || loop.refused.length || again.refused.length) {
    console.log(`${label} refused: ${[...first.refused, ...loop.refused, ...again.refused]}`);
  }
}

Deno.test({
  name: "claude code (default model) through an anthropic provider: answers, tool loop, L1a re-run",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "anthropic" });
    await scenario(rig, "claude code");
  },
});

Deno.test({
  name: "claude code through an openai-compatible provider: answers, tool loop, L1a re-run",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "openai_compatible" });
    await scenario(rig, "claude code via openai-compatible");
  },
});
