// `isartor connect gemini` for real: connect writes Gemini CLI's ~/.gemini/.env and edits its
// settings.json on a temporary HOME (the user's own settings and comments stay), the real Gemini
// CLI (from npm) then runs with no environment of its own (only the rig's HOME, PATH and refusing
// egress proxy) and is answered through the gateway; afterwards `--disconnect` puts
// settings.json back byte for byte and removes the .env it created.
import assert from "node:assert/strict";
import { ensureCli } from "../../support/agent_clis.ts";
import { agentClisSkipped, startAgentRig } from "../../support/agent_harness.ts";
import { connectScenario } from "../../support/connect_scenario.ts";

const skip = agentClisSkipped();
if (skip) console.log(`gemini cli connect: skipped: ${skip}`);

/** The user's own settings before connect (Gemini CLI reads them as JSON with comments). */
const USER_SETTINGS = `{
  // my Gemini CLI settings
  "ui": { "hideTips": true },
  "general": { "enableAutoUpdate": false } // no self-update
}
`;

Deno.test({
  name:
    "connect gemini: the real Gemini CLI reaches the gateway from its files alone; disconnect is byte-identical",
  ignore: skip !== null,
  async fn() {
    const bin = await ensureCli("gemini");
    await using rig = await startAgentRig({ provider: "gemini" });
    const settings = `${rig.home}/.gemini/settings.json`;
    let afterConnect = "";
    await connectScenario(rig, {
      tool: "gemini",
      label: "gemini cli",
      userFiles: [
        {
          path: ".gemini/settings.json",
          text: USER_SETTINGS,
          comments: [/\/\/ my Gemini CLI settings/, /\/\/ no self-update/],
        },
        // The user trusted this project once (Gemini CLI's first-run dialog writes this
        // file): Gemini CLI reads ~/.gemini/.env in trusted folders only.
        {
          path: ".gemini/trustedFolders.json",
          text: JSON.stringify({ [rig.work]: "TRUST_FOLDER" }, null, 2),
          comments: [],
        },
      ],
      created: [".gemini/.env"],
      // A fixed model: with the default ("auto") every turn first asks a classifier model for
      // a route, as JSON the mock does not write.
      connectArgs: ["--model", "gemini-2.5-flash"],
      route: "/v1beta/models/",
      // No GEMINI_* or GOOGLE_* variable: only what connect wrote.
      ask: async (prompt) => {
        afterConnect = await Deno.readTextFile(settings);
        const run = await rig.run(bin, ["-p", prompt, "--output-format", "json"]);
        let result = "";
        try {
          result = String(JSON.parse(run.stdout).response ?? "");
        } catch { /* the scenario shows stdout */ }
        return { ...run, result };
      },
      // Gemini CLI rewrites settings.json when it migrates a deprecated key (it would turn
      // `general.disableAutoUpdate` into `enableAutoUpdate`); with current keys it leaves it be.
      afterRun: async () =>
        assert.equal(await Deno.readTextFile(settings), afterConnect, "Gemini CLI left it"),
    });
  },
});
