// `isartor connect codex` for real: connect edits Codex's config.toml on a temporary HOME (the
// user's own settings and comments stay), the real Codex CLI (from npm) then runs with no
// environment of its own (only the rig's HOME, PATH and refusing egress proxy) and is answered
// through the gateway; afterwards `--disconnect` puts config.toml back byte for byte.
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
if (skip) console.log(`codex connect: skipped: ${skip}`);

/** The user's own config before connect, comments included. */
const USER_CONFIG = `# my codex settings
model_reasoning_effort = "low" # keep it quick

[tui]
# no desktop notifications
notifications = false
`;

Deno.test({
  name:
    "connect codex: the real Codex reaches the gateway from config.toml alone; disconnect is byte-identical",
  ignore: skip !== null,
  async fn() {
    const bin = await ensureCli("codex");
    await using rig = await startAgentRig({ provider: "openai" });
    const config = `${rig.home}/.codex/config.toml`;
    await Deno.mkdir(`${rig.home}/.codex`, { recursive: true });
    await Deno.writeTextFile(config, USER_CONFIG);
    const before = await Deno.readFile(config);
    const cliEnv = { HOME: rig.home, XDG_CONFIG_HOME: `${rig.home}/.config` };

    const connected = await isartor(["connect", "codex", "--gateway-url", rig.url], cliEnv);
    assert.equal(connected.code, 0, connected.stderr);
    console.log(connected.stdout.trim().split("\n").map((l) => `  connect: ${l}`).join("\n"));
    const written = await Deno.readTextFile(config);
    assert.match(written, /# keep it quick/);
    assert.match(written, /# no desktop notifications/);

    // No OPENAI_* or CODEX_* variable: only what connect wrote.
    const run = await rig.run(bin, [
      "exec",
      "--json",
      "--skip-git-repo-check",
      // The rig is the sandbox: Codex's own (bubblewrap/landlock) is not on every machine.
      "--dangerously-bypass-approvals-and-sandbox",
      "Say hello.",
    ]);
    console.log(describeRun("codex after connect", run));
    let result = "";
    for (const line of run.stdout.split("\n")) {
      try {
        const ev = JSON.parse(line);
        if (ev.type === "item.completed" && ev.item?.type === "agent_message") {
          result = ev.item.text;
        }
      } catch { /* not an event */ }
    }
    assertRun(run.code === 0 && result.includes(DEFAULT_ANSWER_TEXT), run, "answered");
    assertRun(run.wire.some((w) => w.path.startsWith("/v1/responses")), run, "through the gateway");
    assertRun(run.layers.l3 > 0 && run.upstream > 0, run, "the gateway asked the provider (L3)");
    assertRun(run.refused.length === 0, run, "no other host");

    const undo = await isartor(["connect", "codex", "--disconnect"], cliEnv);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /restored/);
    assert.deepEqual(await Deno.readFile(config), before, "config.toml byte for byte");
  },
});
