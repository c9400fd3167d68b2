// The offline artifact: `deno bundle` output runs with an empty DENO_DIR, no config and
// --cached-only, and starts a working gateway (what `deno compile` would ship, minus denort).
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { REPO } from "../support/cli_runner.ts";

/** The variables that let Deno reach the npm registry here (CA bundles, proxies). */
function networkEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (
      /^(SSL_CERT_|DENO_CERT|DENO_TLS_CA_STORE|NODE_EXTRA_CA_CERTS|HTTPS?_PROXY|NO_PROXY)/i.test(k)
    ) {
      out[k] = v;
    }
  }
  return out;
}

async function run(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1", ...networkEnv(), ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("bundle: dist/isartor.js runs offline and serves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-bundle-" });
  const mock = await startMockUpstream();
  const bundle = `${dir}/isartor.js`;
  const home = `${dir}/home`;
  await Deno.mkdir(home);
  const env = {
    HOME: home,
    DENO_DIR: `${dir}/empty-deno-dir`,
    ISARTOR__DATA_DIR: `${dir}/data`,
    ISARTOR__HOST_PORT: `127.0.0.1:${freePort()}`,
    ISARTOR__LLM_PROVIDER: "openai_compatible",
    ISARTOR__EXTERNAL_LLM_URL: `${mock.url}/v1`,
  };
  const flags = [
    "run",
    "--no-config",
    "--cached-only",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-net",
    "--allow-sys",
    bundle,
  ];
  try {
    const built = await run([
      "bundle",
      "--config",
      `${REPO}/deno.json`,
      "--platform",
      "deno",
      "-o",
      bundle,
      `${REPO}/cli/main.ts`,
    ], {
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      HOME: Deno.env.get("HOME") ?? home,
    });
    assert.equal(built.code, 0, built.stderr);
    const version = await run([...flags, "--version"], env);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^isartor \d+\.\d+\.\d+/);

    const up = await run([...flags, "up", "--detach"], env);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    try {
      const res = await fetch(`http://${env.ISARTOR__HOST_PORT}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      const again = await fetch(`http://${env.ISARTOR__HOST_PORT}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      });
      await again.body?.cancel();
      assert.equal(
        again.headers.get("x-isartor-layer"),
        "l1a",
        "the KV-backed cache works in the bundle",
      );
      // L1b, with its stemmer and WordNet table, inside the bundle.
      const ask = async (content: string) => {
        const r = await fetch(`http://${env.ISARTOR__HOST_PORT}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content }] }),
        });
        await r.body?.cancel();
        return r.headers.get("x-isartor-layer");
      };
      assert.notEqual(await ask("How do I fix a failing test in Python?"), "l1b");
      assert.equal(await ask("how do i repair a failing test in python"), "l1b");
      assert.notEqual(await ask("how do i repair a failing test in rust"), "l1b");
    } finally {
      const stop = await run([...flags, "stop"], env);
      assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    }
  } finally {
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});
