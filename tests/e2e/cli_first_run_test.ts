/**
 * `isartor setup` as a new user meets it: on a real terminal (tmux) answering
 * its questions, and without one, from flags and a piped key. Both end in a
 * passing `isartor check` against a mock provider on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { baseEnv, cliSandbox } from "../support/cli_harness.ts";
import { cliArgs } from "../support/cli_runner.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";

const KEY = "sk-setup0123456789abcdef77";

Deno.test("setup without a terminal: flags and a piped key; store, connect, check", async () => {
  const mock = await startMockUpstream();
  const user = await cliSandbox();
  try {
    const r = await user.run(
      [
        "setup",
        "-p",
        "openai_compatible",
        "--url",
        `${mock.url}/v1`,
        "-m",
        "m1",
        "--connect",
        "codex",
      ],
      { stdin: `${KEY}\n` },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\[1\/4\] Provider/);
    assert.match(r.stdout, /\[4\/4\] Check/);
    assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY), "the key is never printed");
    const stored = JSON.parse(await Deno.readTextFile(`${user.dataDir}/credentials`));
    assert.equal(stored.external_llm_api_key, KEY);
    assert.equal(stored.llm_provider, "openai_compatible");
    assert.equal(stored.external_llm_model, "m1");
    assert.match(await Deno.readTextFile(`${user.home}/.codex/config.toml`), /isartor/);
    assert.ok(mock.requests.some((q) => q.path === "/v1/models"), "check asked the provider");
  } finally {
    await user.cleanup();
    await mock.close();
  }
});

Deno.test("setup without a terminal and without -p is a usage error that says what to pass", async () => {
  const user = await cliSandbox();
  try {
    const r = await user.run(["setup"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /without a terminal, name the provider: isartor setup -p PROVIDER/);
    const bad = await user.run(["setup", "-p", "nope"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown provider "nope"/);
  } finally {
    await user.cleanup();
  }
});

async function tmux(...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "setup on a terminal: asks provider, model, URL, hidden key, tool, then checks",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const mock = await startMockUpstream();
    const user = await cliSandbox();
    const session = `isartor-setup-${Deno.pid}`;
    const socket = `${user.home}/tmux.sock`;
    const t = (...a: string[]) => tmux("-S", socket, ...a);
    const screen = () => t("capture-pane", "-p", "-t", session, "-S", "-200");
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 600; i++) {
        const s = await screen();
        if (re.test(s)) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${re}:\n${await screen()}`);
    };
    try {
      const env = await baseEnv(user.home);
      const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      const cmd = ["env", "-i", ...envArgs, Deno.execPath(), ...cliArgs(["setup"])].map((a) =>
        `'${a.replaceAll("'", "'\\''")}'`
      ).join(" ");
      await t(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "200",
        "-y",
        "60",
        "-c",
        user.cwd,
        `${cmd}; echo SETUP-EXIT=$?; sleep 60`,
      );
      await waitFor(/Provider \(number or name\)/);
      await t("send-keys", "-t", session, "openai_compatible", "Enter");
      await waitFor(/Model \[/);
      await t("send-keys", "-t", session, "Enter");
      await waitFor(/base URL:/);
      await t("send-keys", "-t", session, `${mock.url}/v1`, "Enter");
      await waitFor(/API key \(input hidden\)/);
      await t("send-keys", "-t", session, KEY, "Enter");
      await waitFor(/Tool to point at the gateway/);
      await t("send-keys", "-t", session, "Enter");
      const done = await waitFor(/SETUP-EXIT=\d+/);
      assert.match(done, /SETUP-EXIT=0/, done);
      assert.ok(!done.includes(KEY), `the key is not echoed:\n${done}`);
      assert.match(done, /skipped \(later: isartor connect <tool>\)/);
      const stored = JSON.parse(await Deno.readTextFile(`${user.dataDir}/credentials`));
      assert.equal(stored.external_llm_api_key, KEY);
      assert.equal(stored.external_llm_url, `${mock.url}/v1`);
    } finally {
      await t("kill-server").catch(() => "");
      await user.cleanup();
      await mock.close();
    }
  },
});
