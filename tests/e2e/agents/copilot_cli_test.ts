// GitHub Copilot CLI (the real CLI from npm) in BYOK mode through the gateway: OpenAI chat
// completions, Responses over HTTP and over a WebSocket, and Anthropic Messages.
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, type AgentRig, startAgentRig } from "../../support/agent_harness.ts";
import { type AgentAnswer, agentScenario, type Rerun } from "../../support/agent_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`copilot cli: skipped: ${skip}`);

async function copilot(
  rig: AgentRig,
  provider: Record<string, string>,
  prompt: string,
): Promise<AgentAnswer> {
  const bin = await ensureCli("copilot");
  const r = await rig.run(
    bin,
    ["-p", prompt, "--silent", "--allow-all-tools", "--no-auto-update"],
    {
      env: {
        // BYOK (`copilot help environment`): its own provider, no GitHub login; offline mode
        // also turns off telemetry, web tools, the GitHub MCP server and updates.
        COPILOT_OFFLINE: "true",
        COPILOT_PROVIDER_API_KEY: "sk-client-key",
        COPILOT_AUTO_UPDATE: "false",
        COPILOT_HOME: `${rig.home}/.copilot`,
        ...provider,
      },
    },
  );
  return { ...r, result: r.stdout };
}

/**
 * Copilot writes the current time (`<current_datetime>`) into the user turn and its session
 * folder (a fresh uuid) into the system prompt, so no two runs send the same request.
 */
const COPILOT_RERUN: Rerun = {
  kind: "prompt_varies",
  patterns: [
    /<current_datetime>([^<]+)<\/current_datetime>/,
    /session-state\/([0-9a-f-]{36})/,
    // Responses only: its provider-cache hint, a per-session value left out of the cache key.
    /"prompt_cache_key":"([0-9a-f]+)"/,
  ],
  why: "Copilot CLI puts the time and its session folder into every prompt",
};

const MODES: { name: string; provider: string; env: (rig: AgentRig) => Record<string, string> }[] =
  [
    {
      name: "chat completions",
      provider: "openai",
      env: (rig) => ({ COPILOT_PROVIDER_BASE_URL: `${rig.url}/v1`, COPILOT_MODEL: "gpt-5.5" }),
    },
    {
      name: "responses over http",
      provider: "openai",
      env: (rig) => ({
        COPILOT_PROVIDER_BASE_URL: `${rig.url}/v1`,
        COPILOT_PROVIDER_WIRE_API: "responses",
        COPILOT_MODEL: "gpt-5.5",
      }),
    },
    {
      name: "responses over websocket",
      provider: "openai",
      env: (rig) => ({
        COPILOT_PROVIDER_BASE_URL: `${rig.url}/v1`,
        COPILOT_PROVIDER_WIRE_API: "responses",
        COPILOT_PROVIDER_TRANSPORT: "websockets",
        COPILOT_MODEL: "gpt-5.5",
      }),
    },
    {
      name: "anthropic messages",
      provider: "anthropic",
      env: (rig) => ({
        COPILOT_PROVIDER_BASE_URL: rig.url,
        COPILOT_PROVIDER_TYPE: "anthropic",
        COPILOT_MODEL: "claude-sonnet-4-6",
      }),
    },
  ];

for (const mode of MODES) {
  Deno.test({
    name: `copilot cli (byok) through ${mode.name}: answers, tool loop, re-run`,
    ignore: skip !== null,
    async fn() {
      await using rig = await startAgentRig({ provider: mode.provider });
      await agentScenario(rig, {
        label: `copilot cli (${mode.name})`,
        tool: "GitHub Copilot",
        ask: (p) => copilot(rig, mode.env(rig), p),
        rerun: COPILOT_RERUN,
      });
    },
  });
}
