// `isartor connect opencode` for real: connect edits opencode's config and auth file on a
// temporary HOME (the user's own settings and comments stay), the real opencode (from npm) then
// runs with no environment of its own (only the rig's HOME, XDG dirs, PATH and refusing egress
// proxy) and is answered through the gateway; afterwards `--disconnect` puts the config back
// byte for byte and removes the auth file it created.
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, startAgentRig } from "../../support/agent_harness.ts";
import { connectScenario } from "../../support/connect_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`opencode connect: skipped: ${skip}`);

/** The user's own config before connect (opencode reads JSON with comments). */
const USER_CONFIG = `{
  // my opencode settings
  "$schema": "https://opencode.ai/config.json",
  "autoupdate": false, // I update it myself
  "share": "disabled"
}
`;

/**
 * What opencode 1.18 reaches for on its own, with no setting in its config to stop it: the
 * model list from models.opencode.ai (only the OPENCODE_DISABLE_MODELS_FETCH variable turns it
 * off, and this test sets no variable) and `@opencode-ai/plugin` from registry.npmjs.org, in
 * the background. Refused by the proxy, the run goes on and is answered through the gateway.
 */
const REFUSED_WITHOUT_ENV = ["models.opencode.ai:443", "registry.npmjs.org:443"];

Deno.test({
  name:
    "connect opencode: the real opencode reaches the gateway from its files alone; disconnect is byte-identical",
  ignore: skip !== null,
  async fn() {
    const bin = await ensureCli("opencode");
    await using rig = await startAgentRig({ provider: "openai" });
    await connectScenario(rig, {
      tool: "opencode",
      label: "opencode",
      userFiles: [{
        path: ".config/opencode/opencode.jsonc",
        text: USER_CONFIG,
        comments: [/\/\/ my opencode settings/, /\/\/ I update it myself/],
      }],
      created: [".local/share/opencode/auth.json"],
      connectArgs: ["--model", "gpt-5.5"],
      route: "/v1/chat/completions",
      refusedAllowed: REFUSED_WITHOUT_ENV,
      // No OPENCODE_* or OPENAI_* variable: only what connect wrote.
      ask: async (prompt) => {
        const run = await rig.run(bin, ["run", prompt, "--format", "json"]);
        const texts: string[] = [];
        for (const line of run.stdout.split("\n")) {
          try {
            const ev = JSON.parse(line);
            if (ev.type === "text" && typeof ev.part?.text === "string") texts.push(ev.part.text);
          } catch { /* not an event */ }
        }
        return { ...run, result: texts.join("\n") };
      },
    });
  },
});
