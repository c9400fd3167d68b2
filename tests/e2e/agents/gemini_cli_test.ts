// Gemini CLI (the real CLI from npm) through the gateway's Gemini API, against the mock provider.
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, type AgentRig, startAgentRig } from "../../support/agent_harness.ts";
import { type AgentAnswer, agentScenario } from "../../support/agent_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`gemini cli: skipped: ${skip}`);

/** Its user settings: API-key auth (no Google login), no telemetry, no update check. */
const SETTINGS = {
  security: { auth: { selectedType: "gemini-api-key" } },
  telemetry: { enabled: false },
  privacy: { usageStatisticsEnabled: false },
  general: { disableAutoUpdate: true, disableUpdateNag: true },
};

async function gemini(rig: AgentRig, prompt: string): Promise<AgentAnswer> {
  const bin = await ensureCli("gemini");
  await Deno.mkdir(`${rig.home}/.gemini`, { recursive: true });
  await Deno.writeTextFile(`${rig.home}/.gemini/settings.json`, JSON.stringify(SETTINGS));
  const r = await rig.run(bin, [
    "-p",
    prompt,
    "--output-format",
    "json",
    // Headless mode offers the shell tool only when tool calls need no approval.
    "--approval-mode",
    "yolo",
    // A fixed model: with the default ("auto") every turn first asks a classifier model for a
    // route, as JSON the mock does not write.
    "-m",
    "gemini-2.5-flash",
  ], {
    env: {
      GOOGLE_GEMINI_BASE_URL: rig.url,
      GEMINI_API_KEY: "client-gemini-key",
      GEMINI_CLI_TRUST_WORKSPACE: "true",
      // It re-executes itself to raise the heap limit; one process starts twice as fast.
      GEMINI_CLI_NO_RELAUNCH: "true",
    },
  });
  let result = "";
  try {
    result = String(JSON.parse(r.stdout).response ?? "");
  } catch { /* the scenario shows stdout */ }
  return { ...r, result };
}

Deno.test({
  name: "gemini cli through the gemini api: answers, tool loop, re-run",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "gemini" });
    const { runs } = await agentScenario(rig, {
      label: "gemini cli",
      tool: "Gemini CLI",
      ask: (p) => gemini(rig, p),
      // Its shell tool ends every output with `Process Group PGID: <pid>` (and names each call
      // `<tool>_<Date.now()>_<n>`), so the request carrying the output is new on every run.
      rerun: {
        kind: "tool_output_varies",
        patterns: [/Process Group PGID: (\d+)/],
        why: "Gemini CLI puts the shell's process id into every shell output",
      },
    });
    for (const r of runs) {
      const bad = r.wire.filter((w) => w.path.startsWith("/v1beta/") && w.status !== 200);
      if (bad.length) throw new Error(`gemini cli: unexpected wire ${JSON.stringify(r.wire)}`);
    }
  },
});
