// `isartor connect opencode` for real: connect edits opencode's config and auth file on a
// temporary HOME (the user's own settings and comments stay), the real opencode (from npm) then
// runs with no environment of its own (only the rig's HOME, XDG dirs, PATH and refusing egress
// proxy) and is answered through the gateway; afterwards `--disconnect` puts the config back
// byte for byte and removes the auth file it created.
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
    const config = `${rig.home}/.config/opencode/opencode.jsonc`;
    const auth = `${rig.home}/.local/share/opencode/auth.json`;
    await Deno.mkdir(`${rig.home}/.config/opencode`, { recursive: true });
    await Deno.writeTextFile(config, USER_CONFIG);
    const before = await Deno.readFile(config);
    const cliEnv = {
      HOME: rig.home,
      XDG_CONFIG_HOME: `${rig.home}/.config`,
      XDG_DATA_HOME: `${rig.home}/.local/share`,
    };

    const connected = await isartor(
      ["connect", "opencode", "--gateway-url", rig.url, "--model", "gpt-5.5"],
      cliEnv,
    );
    assert.equal(connected.code, 0, connected.stderr);
    console.log(connected.stdout.trim().split("\n").map((l) => `  connect: ${l}`).join("\n"));
    const written = await Deno.readTextFile(config);
    assert.match(written, /\/\/ my opencode settings/);
    assert.match(written, /\/\/ I update it myself/);

    // No OPENCODE_* or OPENAI_* variable: only what connect wrote.
    const run = await rig.run(bin, ["run", "Say hello.", "--format", "json"]);
    console.log(describeRun("opencode after connect", run));
    const texts: string[] = [];
    for (const line of run.stdout.split("\n")) {
      try {
        const ev = JSON.parse(line);
        if (ev.type === "text" && typeof ev.part?.text === "string") texts.push(ev.part.text);
      } catch { /* not an event */ }
    }
    assertRun(run.code === 0 && texts.join("\n").includes(DEFAULT_ANSWER_TEXT), run, "answered");
    assertRun(
      run.wire.some((w) => w.path.startsWith("/v1/chat/completions")),
      run,
      "through the gateway",
    );
    assertRun(run.layers.l3 > 0 && run.upstream > 0, run, "the gateway asked the provider (L3)");
    const other = run.refused.filter((h) => !REFUSED_WITHOUT_ENV.includes(h));
    assertRun(other.length === 0, run, `no other host (refused ${run.refused.join(", ")})`);

    const undo = await isartor(["connect", "opencode", "--disconnect"], cliEnv);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /restored/);
    assert.deepEqual(await Deno.readFile(config), before, "opencode.jsonc byte for byte");
    await assert.rejects(Deno.stat(auth), "the auth file connect created is gone");
  },
});
