/**
 * `isartor keys add|list|revoke` as a subprocess with its own HOME: the key is
 * printed once, only its digest lands in isartor.toml (0600), and a gateway
 * started on that file accepts the key with its tenant.
 */

import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { cliSandbox } from "../support/cli_harness.ts";
import { hashGatewayKey } from "../../src/http/gateway_keys.ts";
import { identifyCaller } from "../../src/http/auth.ts";
import { GatewayKeyRing } from "../../src/http/gateway_keys.ts";
import { parseConfig } from "../../src/config/load.ts";
import { startGateway, type TestGateway } from "../support/gateway_harness.ts";

Deno.test("keys: add prints the key once and stores its digest; list and revoke by id or label", async () => {
  const user = await cliSandbox();
  try {
    const file = `${user.home}/.isartor/isartor.toml`;
    await Deno.mkdir(`${user.home}/.isartor`, { recursive: true });
    await Deno.writeTextFile(file, '# mine\nllm_provider = "groq"\n');
    const add = await user.run([
      "keys",
      "add",
      "--tenant",
      "team-a",
      "--label",
      "CI runner",
      "--requests",
      "100",
    ]);
    assert.equal(add.code, 0, add.stderr);
    const key = add.stdout.trim();
    assert.match(key, /^isk-[A-Za-z0-9_-]{43}$/);
    assert.match(add.stderr, /only time the key is shown/);
    const proxy = await user.run(["keys", "add", "--tenant", "edge", "--trusted-proxy", "--json"]);
    assert.equal(proxy.code, 0, proxy.stderr);
    const proxyKey = JSON.parse(proxy.stdout).key as string;

    const text = await Deno.readTextFile(file);
    assert.ok(text.startsWith('# mine\nllm_provider = "groq"\n'), text);
    assert.ok(!text.includes(key) && !text.includes(proxyKey), "the file never holds a key");
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    const raw = parseToml(text) as Record<string, unknown>;
    const config = parseConfig(raw);
    assert.equal(config.gateway_keys.length, 2);
    assert.equal(config.gateway_keys[0].key_sha256, hashGatewayKey(key));
    assert.equal(config.gateway_keys[0].requests_per_window, 100);
    assert.equal(config.gateway_keys[1].trusted_proxy, true);
    const caller = identifyCaller(new Headers({ authorization: `Bearer ${key}` }), {
      gatewayKey: "",
      tenantHeader: "x-team",
      keys: new GatewayKeyRing(config.gateway_keys),
    });
    assert.equal(caller.authorized, true);
    assert.equal(caller.tenant, "h:team-a");

    const list = await user.run(["keys", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /tenant=team-a {2}label="CI runner" {2}quota=100 req \/ 3600s/);
    assert.match(list.stdout, /tenant=edge {2}trusted-proxy/);
    assert.ok(!list.stdout.includes(key));
    const listed = JSON.parse((await user.run(["keys", "list", "--json"])).stdout);
    const id = listed.keys[1].id as string;

    assert.equal((await user.run(["keys", "revoke", "CI runner"])).code, 0);
    assert.equal((await user.run(["keys", "revoke", id])).code, 0);
    const gone = await user.run(["keys", "revoke", id]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no key with id or label/);
    assert.deepEqual(parseConfig(parseToml(await Deno.readTextFile(file))).gateway_keys, []);
    const bad = await user.run(["keys", "add", "--tenant", "a/b"]);
    assert.equal(bad.code, 2);
  } finally {
    await user.cleanup();
  }
});

Deno.test("keys: stats from the CLI sends a key it holds, and says what to set when only hashed keys exist", async () => {
  const user = await cliSandbox();
  let gw: TestGateway | null = null;
  try {
    await Deno.mkdir(`${user.home}/.isartor`, { recursive: true });
    await Deno.writeTextFile(`${user.home}/.isartor/isartor.toml`, 'llm_provider = "groq"\n');
    const key = (await user.run(["keys", "add", "--tenant", "team-a"])).stdout.trim();
    const raw = parseToml(await Deno.readTextFile(`${user.home}/.isartor/isartor.toml`));
    gw = await startGateway({ gateway_keys: parseConfig(raw).gateway_keys });

    const refused = await user.run(["stats", "--url", gw.url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /stored hashed, so set ISARTOR__GATEWAY_API_KEY to one of them/);
    const own = await user.run(["stats", "--url", gw.url, "--json"], {
      env: { ISARTOR__GATEWAY_API_KEY: key },
    });
    assert.equal(own.code, 0, own.stderr);
    assert.equal(typeof JSON.parse(own.stdout).deflection_rate, "number");
  } finally {
    await gw?.close();
    await user.cleanup();
  }
});
