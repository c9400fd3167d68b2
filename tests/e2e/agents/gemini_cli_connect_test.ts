// `isartor connect gemini` for real: connect writes Gemini CLI's ~/.gemini/.env and edits its
// settings.json on a temporary HOME (the user's own settings and comments stay), the real Gemini
// CLI (from npm) then runs with no environment of its own (only the rig's HOME, PATH and refusing
// egress proxy) and is answered through the gateway; afterwards `--disconnect` puts
// settings.json back byte for byte and removes the .env it created.
import assert from "node:assert/strict";
import { ensureCli } from "../../support/agent_clis.ts";
import {
  agentClisSkipped,
  assertRun,
  describeRun,
  startAgentRig,
} from "../../support/agent_harness.ts";
import { isartor } from "../../support/cli_runner.ts";
import { DEFAULT_ANSWER_TEXT } from "../../support/mock_upstream.ts";

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
    const dotenv = `${rig.home}/.gemini/.env`;
    await Deno.mkdir(`${rig.home}/.gemini`, { recursive: true });
    await Deno.writeTextFile(settings, USER_SETTINGS);
    // The user trusted this project once (Gemini CLI's first-run dialog writes this file):
    // Gemini CLI reads ~/.gemini/.env in trusted folders only.
    await Deno.writeTextFile(
      `${rig.home}/.gemini/trustedFolders.json`,
      JSON.stringify({ [rig.work]: "TRUST_FOLDER" }, null, 2),
    );
    const before = await Deno.readFile(settings);
    const cliEnv = { HOME: rig.home, XDG_CONFIG_HOME: `${rig.home}/.config` };

    const connected = await isartor([
      "connect",
      "gemini",
      "--gateway-url",
      rig.url,
      // A fixed model: with the default ("auto") every turn first asks a classifier model
      // for a route, as JSON the mock does not write.
      "--model",
      "gemini-2.5-flash",
    ], cliEnv);
    assert.equal(connected.code, 0, connected.stderr);
    console.log(connected.stdout.trim().split("\n").map((l) => `  connect: ${l}`).join("\n"));
    const written = await Deno.readTextFile(settings);
    assert.match(written, /\/\/ my Gemini CLI settings/);
    assert.match(written, /\/\/ no self-update/);

    const afterConnect = await Deno.readTextFile(settings);
    // No GEMINI_* or GOOGLE_* variable: only what connect wrote.
    const run = await rig.run(bin, ["-p", "Say hello.", "--output-format", "json"]);
    console.log(describeRun("gemini cli after connect", run));
    let result = "";
    try {
      result = String(JSON.parse(run.stdout).response ?? "");
    } catch { /* assertRun shows stdout */ }
    assertRun(run.code === 0 && result.includes(DEFAULT_ANSWER_TEXT), run, "answered");
    assertRun(
      run.wire.some((w) => w.path.startsWith("/v1beta/models/")),
      run,
      "through the gateway",
    );
    assertRun(run.layers.l3 > 0 && run.upstream > 0, run, "the gateway asked the provider (L3)");
    assertRun(run.refused.length === 0, run, "no other host");

    // Gemini CLI rewrites settings.json when it migrates a deprecated key (it would turn
    // `general.disableAutoUpdate` into `enableAutoUpdate`); with current keys it leaves it alone.
    assert.equal(await Deno.readTextFile(settings), afterConnect, "Gemini CLI left settings.json");
    const undo = await isartor(["connect", "gemini", "--disconnect"], cliEnv);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /restored/);
    assert.deepEqual(await Deno.readFile(settings), before, "settings.json byte for byte");
    await assert.rejects(Deno.stat(dotenv), "the .env connect created is gone");
  },
});
