// opencode (the real CLI from npm) through the gateway as an OpenAI-compatible provider.
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, type AgentRig, startAgentRig } from "../../support/agent_harness.ts";
import { type AgentAnswer, agentScenario } from "../../support/agent_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`opencode: skipped: ${skip}`);

/** Its config: the gateway as a custom OpenAI-compatible provider, no sharing, no updates. */
function config(rig: AgentRig): Record<string, unknown> {
  return {
    $schema: "https://opencode.ai/config.json",
    autoupdate: false,
    share: "disabled",
    model: "isartor/gpt-5.5",
    provider: {
      isartor: {
        npm: "@ai-sdk/openai-compatible",
        name: "isartor",
        options: { baseURL: `${rig.url}/v1`, apiKey: "sk-client-key" },
        models: { "gpt-5.5": { name: "gpt-5.5", tool_call: true } },
      },
    },
  };
}

/**
 * On every start opencode installs `@opencode-ai/plugin` into its config directory from
 * registry.npmjs.org, in the background; no setting turns that off in 1.18, and the run does not
 * wait for it, so the proxy refuses it and the run goes on.
 */
const REFUSED_NPM = "registry.npmjs.org:443";

async function opencode(rig: AgentRig, prompt: string): Promise<AgentAnswer> {
  const bin = await ensureCli("opencode");
  const dir = `${rig.home}/.config/opencode`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/opencode.json`, JSON.stringify(config(rig)));
  const r = await rig.run(bin, ["run", prompt, "--format", "json"], {
    env: {
      // Else it fetches the model list from models.opencode.ai.
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
    },
  });
  // JSONL events; the answer is the text parts.
  const texts: string[] = [];
  for (const line of r.stdout.split("\n")) {
    try {
      const ev = JSON.parse(line);
      if (ev.type === "text" && typeof ev.part?.text === "string") texts.push(ev.part.text);
    } catch { /* not an event */ }
  }
  return { ...r, result: texts.join("\n") };
}

Deno.test({
  name: "opencode through an openai-compatible provider: answers, tool loop, L1a re-run",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "openai" });
    await agentScenario(rig, {
      label: "opencode",
      tool: "OpenCode",
      ask: (p) => opencode(rig, p),
      refusedAllowed: [REFUSED_NPM],
    });
  },
});
