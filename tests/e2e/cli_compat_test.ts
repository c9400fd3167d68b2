/**
 * Commands users bring from the gateway isartor replaces, run as subprocesses
 * with their own HOME: `set-alias`, `providers`, and a config in that
 * gateway's layout.
 */

import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { type CliSandbox, cliSandbox } from "../support/cli_harness.ts";

async function withUser(fn: (user: CliSandbox) => Promise<void>): Promise<void> {
  const user = await cliSandbox();
  try {
    await fn(user);
  } finally {
    await user.cleanup();
  }
}

Deno.test("set-alias: writes [model_aliases] into isartor.toml and keeps the user's comments", async () => {
  await withUser(async (user) => {
    const file = `${user.home}/.isartor/isartor.toml`;
    await Deno.mkdir(`${user.home}/.isartor`, { recursive: true });
    await Deno.writeTextFile(file, '# my gateway\nllm_provider = "groq" # fast\n');
    const a = await user.run(["set-alias", "fast", "llama-3.1-8b-instant"]);
    assert.equal(a.code, 0, a.stderr);
    const b = await user.run([
      "set-alias",
      "--alias",
      "smart",
      "--model",
      "llama-3.3-70b-versatile",
    ]);
    assert.equal(b.code, 0, b.stderr);
    const again = await user.run(["set-alias", "fast", "llama-3.1-8b"]);
    assert.equal(again.code, 0, again.stderr);
    const text = await Deno.readTextFile(file);
    assert.ok(text.startsWith('# my gateway\nllm_provider = "groq" # fast\n'), text);
    assert.deepEqual({ ...(parseToml(text).model_aliases as object) }, {
      fast: "llama-3.1-8b",
      smart: "llama-3.3-70b-versatile",
    });
    const bad = await user.run(["set-alias", "fast"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /give an alias and a model/);
  });
});

Deno.test("providers: lists the chain with key state, and every provider (--json)", async () => {
  await withUser(async (user) => {
    const set = await user.run(["set-key", "-p", "nvidia"], { stdin: "nvapi-0123456789abcdef\n" });
    assert.equal(set.code, 0, set.stderr);
    const r = await user.run(["providers", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.chain[0].provider, "nvidia");
    assert.equal(out.chain[0].keys, 1);
    const names = out.providers.map((p: { name: string }) => p.name);
    for (const n of ["cohere", "nvidia", "perplexity", "moonshot", "huggingface", "chutes"]) {
      assert.ok(names.includes(n), n);
    }
    const text = await user.run(["providers"]);
    assert.match(text.stdout, /primary\s+nvidia/);
    assert.ok(!text.stdout.includes("nvapi-0123456789abcdef"), "a key is never printed");
  });
});

Deno.test("up: a config in the replaced gateway's layout starts, with its unused keys on a warning line", async () => {
  await withUser(async (user) => {
    await Deno.mkdir(`${user.home}/.isartor`, { recursive: true });
    await Deno.writeTextFile(
      `${user.home}/.isartor/isartor.toml`,
      'provider_health_check_interval_secs = 300\n[server]\nhost = "127.0.0.1"\nport = 0\n',
    );
    const up = await user.run(["up", "--detach"]);
    try {
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /no effect: provider_health_check_interval_secs/);
      assert.match(up.stderr, /server\.host\/port → host_port/);
    } finally {
      await user.run(["stop"]);
    }
    const refused = await user.run(["up"], {
      env: { ISARTOR__CLASSIFIER_ROUTING__ENABLED: "true" },
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /classifier_routing = .*classifier routing is not built yet/);
  });
});
