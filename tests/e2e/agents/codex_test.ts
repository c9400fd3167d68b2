// Codex CLI (the real CLI from npm) through the gateway, against the mock provider: its default
// transport (the Responses API over a WebSocket, set by `openai_base_url`) and a custom
// `model_provider` speaking Responses over HTTP.
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, type AgentRig, startAgentRig } from "../../support/agent_harness.ts";
import { type AgentAnswer, agentScenario, type Rerun } from "../../support/agent_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`codex: skipped: ${skip}`);

/**
 * What every Codex config here shares: no analytics (else it calls ab.chatgpt.com) and no
 * plugins (else it syncs them from github.com and chatgpt.com). Codex ignores OPENAI_BASE_URL.
 */
const QUIET = "[features]\nplugins = false\n\n[analytics]\nenabled = false\n";

/** The built-in OpenAI provider pointed at the gateway: Responses over a WebSocket. */
function builtinConfig(rig: AgentRig): string {
  return `model = "gpt-5.5"\nopenai_base_url = "${rig.url}/v1"\n\n${QUIET}`;
}

/** A custom provider with `wire_api = "responses"`: Responses over HTTP POST. */
function customConfig(rig: AgentRig): string {
  return `model = "gpt-5.5"\nmodel_provider = "isartor"\n\n[model_providers.isartor]\n` +
    `name = "isartor"\nbase_url = "${rig.url}/v1"\nenv_key = "OPENAI_API_KEY"\n` +
    `wire_api = "responses"\n\n${QUIET}`;
}

async function codex(rig: AgentRig, config: string, prompt: string): Promise<AgentAnswer> {
  const bin = await ensureCli("codex");
  const home = `${rig.home}/.codex`;
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(`${home}/config.toml`, config);
  const r = await rig.run(bin, [
    "exec",
    "--json",
    "--skip-git-repo-check",
    // The rig is the sandbox: Codex's own (bubblewrap/landlock) is not there on every machine.
    "--dangerously-bypass-approvals-and-sandbox",
    prompt,
  ], { env: { CODEX_HOME: home, OPENAI_API_KEY: "sk-client-key" } });
  // JSONL events; the answer is the last agent message.
  let result = "";
  for (const line of r.stdout.split("\n")) {
    try {
      const ev = JSON.parse(line);
      if (ev.type === "item.completed" && ev.item?.type === "agent_message") result = ev.item.text;
    } catch { /* not an event */ }
  }
  return { ...r, result };
}

/**
 * Codex's shell tool (`exec_command`, its "unified exec", which config cannot switch off in
 * 0.171) starts its output with a fresh random `Chunk ID: <6 hex>` on every call (and the command's
 * wall time), so the request carrying the tool's output is new on every run and goes to the
 * provider; the gateway must not drop it (it is what the model reads).
 */
const CODEX_RERUN: Rerun = {
  kind: "tool_output_varies",
  patterns: [/Chunk ID: ([0-9a-f]+)/, /Wall time: ([0-9.]+) seconds/],
  why: "Codex puts a random chunk id into every shell output",
};

Deno.test({
  name: "codex through openai_base_url (Responses over WebSocket): answers, tool loop, re-run",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "openai" });
    const { runs } = await agentScenario(rig, {
      label: "codex (websocket)",
      tool: "Codex",
      ask: (p) => codex(rig, builtinConfig(rig), p),
      rerun: CODEX_RERUN,
    });
    for (const r of runs) {
      // One upgrade per run, accepted; no refused upgrade and no fallback to HTTP POST.
      const upgrades = r.wire.filter((w) => w.upgrade);
      const posts = r.wire.filter((w) => w.method === "POST");
      if (upgrades.length !== 1 || upgrades[0].status !== 101 || posts.length !== 0) {
        throw new Error(`codex websocket: unexpected wire ${JSON.stringify(r.wire)}`);
      }
    }
  },
});

Deno.test({
  name: "codex through a custom model_provider (Responses over HTTP): answers, tool loop, re-run",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "openai" });
    const { runs } = await agentScenario(rig, {
      label: "codex (http)",
      tool: "Codex",
      ask: (p) => codex(rig, customConfig(rig), p),
      rerun: CODEX_RERUN,
    });
    for (const r of runs) {
      const bad = r.wire.filter((w) => w.upgrade || (w.method === "POST" && w.status !== 200));
      if (bad.length) throw new Error(`codex http: unexpected wire ${JSON.stringify(r.wire)}`);
    }
  },
});
