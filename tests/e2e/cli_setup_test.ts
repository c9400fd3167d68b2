/**
 * The setup commands as a user runs them: `set-key`, `check`, `init`, each a
 * real subprocess with its own HOME, against a mock provider on a real socket.
 */

import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { KEY_COMMENTS, uncommentScaffold } from "../../cli/init_scaffold.ts";
import { type CliSandbox, cliSandbox } from "../support/cli_harness.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { redisAvailable, startRedis } from "../support/redis_server.ts";
import { exists } from "../support/files.ts";

const KEY = "gsk_live0123456789abcdef3a9";
const posix = Deno.build.os !== "windows";

async function withUser(fn: (user: CliSandbox) => Promise<void>): Promise<void> {
  const user = await cliSandbox();
  try {
    await fn(user);
  } finally {
    await user.cleanup();
  }
}

Deno.test("set-key: a piped key is stored 0600 in a 0700 directory, never in isartor.toml", async () => {
  await withUser(async (user) => {
    const r = await user.run(["set-key", "-p", "groq"], { stdin: `${KEY}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /gsk_…f3a9/);
    assert.match(r.stdout, /isartor check/);
    assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY), "the key is never printed");
    const path = `${user.dataDir}/credentials`;
    const stored = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(stored, {
      llm_provider: "groq",
      external_llm_model: "llama-3.3-70b-versatile",
      external_llm_api_key: KEY,
    });
    if (posix) {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(user.dataDir)).mode! & 0o777, 0o700);
    }
    assert.equal(await exists(`${user.cwd}/isartor.toml`), false);
    assert.equal(await exists(`${user.home}/.isartor/isartor.toml`), false);
  });
});

Deno.test("set-key: an unknown provider is a usage error listing the valid ones", async () => {
  await withUser(async (user) => {
    const r = await user.run(["set-key", "-p", "nope"], { stdin: KEY });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown provider "nope"/);
    assert.match(r.stderr, /groq/);
    assert.equal(await exists(`${user.dataDir}/credentials`), false);
  });
});

Deno.test("set-key: no key on a pipe is a usage error; -k warns about shell history", async () => {
  await withUser(async (user) => {
    const empty = await user.run(["set-key", "-p", "groq"]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no key given/);
    const flag = await user.run(["set-key", "-p", "groq", "-k", KEY, "--json"]);
    assert.equal(flag.code, 0, flag.stderr);
    assert.match(flag.stderr, /shell history/);
    const out = JSON.parse(flag.stdout);
    assert.equal(out.key, "gsk_…f3a9");
    assert.equal(out.entry.external_llm_api_key, "gsk_…f3a9");
  });
});

Deno.test("set-key: local providers need no key; --add builds a key pool", async () => {
  await withUser(async (user) => {
    const local = await user.run(["set-key", "-p", "ollama"]);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /none \(local provider\)/);
    await user.run(["set-key", "-p", "openai"], { stdin: "sk-first-0000000001" });
    const add = await user.run(
      ["set-key", "-p", "openai", "--add", "--label", "backup", "--priority", "2"],
      { stdin: "sk-second-000000002" },
    );
    assert.equal(add.code, 0, add.stderr);
    const stored = JSON.parse(await Deno.readTextFile(`${user.dataDir}/credentials`));
    assert.deepEqual(stored.provider_keys, [
      { key: "sk-first-0000000001", label: "default", priority: 1 },
      { key: "sk-second-000000002", label: "backup", priority: 2 },
    ]);
    assert.equal(stored.external_llm_api_key, undefined);
  });
});

Deno.test("credentials readable by others are warned about", async () => {
  await withUser(async (user) => {
    await user.run(["set-key", "-p", "ollama"]);
    if (!posix) return;
    await Deno.chmod(`${user.dataDir}/credentials`, 0o644);
    const r = await user.run(["check", "--json", "--timeout", "1"]);
    assert.match(r.stderr, /credentials file .* has mode 644, readable by other users/);
    assert.match(r.stderr, /chmod 600/);
  });
});

Deno.test("check: a working provider gives exit 0 and an ok row", async () => {
  const mock = await startMockUpstream();
  try {
    await withUser(async (user) => {
      const set = await user.run(
        ["set-key", "-p", "openai_compatible", "--url", `${mock.url}/v1`, "-m", "mock-model"],
        { stdin: KEY },
      );
      assert.equal(set.code, 0, set.stderr);
      const r = await user.run(["check"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const row = r.stdout.split("\n").find((l) => l.includes("openai_compatible (primary)"));
      assert.ok(row, r.stdout);
      assert.match(
        row,
        /mock-model\s+gsk_…f3a9\s+http:\/\/127\.0\.0\.1:\d+\/v1\/models\s+ok\s+\d+ ms/,
      );
      assert.match(r.stdout, /L3 cloud:\s+on → openai_compatible/);
      assert.match(r.stdout, /no gateway key/);
      assert.match(r.stdout, new RegExp(`may reach:\\s+127\\.0\\.0\\.1:${mock.port}$`, "m"));
      assert.match(r.stdout, /listens on:\s+127\.0\.0\.1:8080/);
      const probe = mock.requests.at(-1)!;
      assert.equal(probe.method, "GET");
      assert.equal(probe.path, "/v1/models");
      assert.equal(probe.headers.authorization, `Bearer ${KEY}`);
    });
  } finally {
    await mock.close();
  }
});

Deno.test("check: a refused key gives exit 1 with the provider's message", async () => {
  const mock = await startMockUpstream();
  try {
    await withUser(async (user) => {
      await user.run(["set-key", "-p", "openai_compatible", "--url", `${mock.url}/v1`], {
        stdin: KEY,
      });
      mock.enqueue({ kind: "error", status: 401, body: { error: { message: "bad key" } } });
      const r = await user.run(["check"]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /HTTP 401: bad key/);
      assert.match(
        r.stderr,
        /primary provider openai_compatible: HTTP 401: bad key; fix: .*set-key/,
      );
    });
  } finally {
    await mock.close();
  }
});

Deno.test("check: an unreachable provider gives exit 1 and says so", async () => {
  // A port that was just free: connection refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const freePort = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await withUser(async (user) => {
    for (const url of ["http://127.0.0.1:9/v1", `http://127.0.0.1:${freePort}/v1`]) {
      await user.run(["set-key", "-p", "openai_compatible", "--url", url], { stdin: KEY });
      const r = await user.run(["check", "--timeout", "2"]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /unreachable/);
      assert.match(r.stderr, /unreachable.*fix: check that 127\.0\.0\.1:\d+ is up/);
    }
  });
});

Deno.test("check --json: parses, with providers, layers, gateway and network", async () => {
  const mock = await startMockUpstream();
  try {
    await withUser(async (user) => {
      await user.run(["set-key", "-p", "openai_compatible", "--url", `${mock.url}/v1`], {
        stdin: KEY,
      });
      const r = await user.run(["check", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.ok, true);
      assert.equal(report.credentials_file, `${user.dataDir}/credentials`);
      assert.equal(report.providers[0].status, "ok");
      assert.equal(report.providers[0].http_status, 200);
      assert.equal(report.providers[0].key, "gsk_…f3a9");
      assert.equal(typeof report.providers[0].latency_ms, "number");
      assert.deepEqual(report.network.allowed_hosts, [`127.0.0.1:${mock.port}`]);
      assert.equal(report.gateway.loopback, true);
      assert.equal(report.gateway.gateway_key, false);
      assert.match(report.layers["L3 cloud"], /^on/);
      assert.match(report.layers["L2.5 context optimiser"], /^on: minify \+ dedup$/);
    });
  } finally {
    await mock.close();
  }
});

Deno.test("stored credentials sit below isartor.toml and the environment", async () => {
  const mock = await startMockUpstream();
  try {
    await withUser(async (user) => {
      await user.run(
        ["set-key", "-p", "openai_compatible", "--url", `${mock.url}/v1`, "-m", "from-store"],
        { stdin: KEY },
      );
      const model = async (env?: Record<string, string>) =>
        JSON.parse((await user.run(["check", "--json"], { env })).stdout).providers[0].model;
      assert.equal(await model(), "from-store");
      await Deno.writeTextFile(`${user.cwd}/isartor.toml`, 'external_llm_model = "from-file"\n');
      assert.equal(await model(), "from-file");
      assert.equal(await model({ ISARTOR__EXTERNAL_LLM_MODEL: "from-env" }), "from-env");
    });
  } finally {
    await mock.close();
  }
});

Deno.test("set-key warns when isartor.toml or the environment overrides what it stored", async () => {
  await withUser(async (user) => {
    await Deno.writeTextFile(`${user.cwd}/isartor.toml`, 'llm_provider = "openai"\n');
    const r = await user.run(["set-key", "-p", "groq"], {
      stdin: KEY,
      env: { ISARTOR__EXTERNAL_LLM_API_KEY: "sk-from-env-0000" },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /llm_provider is overridden by .*isartor\.toml \("openai"\)/);
    assert.match(
      r.stderr,
      /the key is overridden by the environment variable ISARTOR__EXTERNAL_LLM_API_KEY/,
    );
    const clean = await user.run(["set-key", "-p", "openai"], { stdin: KEY });
    assert.doesNotMatch(clean.stderr, /overridden/);
  });
});

Deno.test("check: a non-loopback bind without a gateway key fails", async () => {
  await withUser(async (user) => {
    await user.run(["set-key", "-p", "ollama"]);
    const r = await user.run(["check", "--json", "--timeout", "1"], {
      env: { ISARTOR__HOST_PORT: "0.0.0.0:8080" },
    });
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout);
    assert.ok(report.problems.some((p: string) => /gateway_api_key/.test(p)), r.stdout);
  });
});

Deno.test("init: writes a scaffold, refuses to overwrite without --force", async () => {
  await withUser(async (user) => {
    const path = `${user.cwd}/isartor.toml`;
    const first = await user.run(["init"]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /isartor set-key/);
    const scaffold = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, "# mine\n");
    const again = await user.run(["init"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists.*--force/);
    assert.equal(await Deno.readTextFile(path), "# mine\n");
    const forced = await user.run(["init", "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await Deno.readTextFile(path), scaffold);
  });
});

Deno.test("init: the scaffold covers every key and loads once uncommented", async () => {
  await withUser(async (user) => {
    const r = await user.run(["init", "--path", "conf/", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const path = `${user.cwd}/conf/isartor.toml`;
    assert.equal(JSON.parse(r.stdout).path, path);
    const text = await Deno.readTextFile(path);
    parseToml(text);
    const enabled = uncommentScaffold(text);
    const keys = Object.keys(ConfigSchema.shape);
    assert.deepEqual(Object.keys(parseToml(enabled)).sort(), [...keys].sort());
    for (const key of keys) assert.ok(KEY_COMMENTS[key], `no description for ${key}`);
    const loaded = loadConfig({
      cwd: user.cwd,
      home: user.home,
      env: { ISARTOR_CONFIG: path },
      readTextFile: (p) => (p === path ? enabled : null),
    });
    assert.deepEqual(loaded.unknownKeys, []);
    assert.equal(loaded.config.fallback_providers[0].provider, "groq");
  });
});

Deno.test("set-key --to-config fills in the scaffold's line", async () => {
  await withUser(async (user) => {
    await user.run(["init"]);
    const r = await user.run(["set-key", "-p", "mistral", "--to-config"], { stdin: KEY });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /keep it out of version control/);
    const text = await Deno.readTextFile(`${user.cwd}/isartor.toml`);
    assert.match(text, new RegExp(`^external_llm_api_key = "${KEY}"$`, "m"));
    assert.match(text, /^llm_provider = "mistral"$/m);
    assert.equal(text.match(/llm_provider =/g)?.length, 1);
    assert.equal(await exists(`${user.dataDir}/credentials`), false);
    if (posix) assert.equal((await Deno.stat(`${user.cwd}/isartor.toml`)).mode! & 0o777, 0o600);
  });
});

Deno.test("every setup command has --help with examples; unknown flags are usage errors", async () => {
  await withUser(async (user) => {
    for (const cmd of ["set-key", "check", "init"]) {
      const help = await user.run([cmd, "--help"]);
      assert.equal(help.code, 0, `${cmd}: ${help.stderr}`);
      assert.match(help.stdout, /Examples:/, cmd);
      const bad = await user.run([cmd, "--frobnicate"]);
      assert.equal(bad.code, 2, `${cmd}: ${bad.stderr}`);
      assert.match(bad.stderr, new RegExp(`isartor ${cmd} --help`));
    }
    const top = await user.run(["--help"]);
    assert.equal(top.code, 0);
    for (const cmd of ["set-key", "check", "init"]) assert.match(top.stdout, new RegExp(cmd));
  });
});

Deno.test("check: the shared Redis cache store is probed, and an unreachable one is a warning", async () => {
  const mock = await startMockUpstream();
  const redis = redisAvailable() ? await startRedis() : null;
  try {
    await withUser(async (user) => {
      const set = await user.run(
        ["set-key", "-p", "openai_compatible", "--url", `${mock.url}/v1`, "-m", "mock-model"],
        { stdin: KEY },
      );
      assert.equal(set.code, 0, set.stderr);
      const dead = await user.run(["check", "--json", "--timeout", "1"], {
        env: { ISARTOR__CACHE_BACKEND: "redis", ISARTOR__REDIS_URL: "redis://127.0.0.1:1" },
      });
      assert.equal(dead.code, 0, dead.stderr);
      const probe = JSON.parse(dead.stdout).cache_store;
      assert.equal(probe.status, "unreachable");
      assert.equal(probe.target, "redis://127.0.0.1:1");
      if (!redis) return;
      const up = await user.run(["check"], {
        env: {
          ISARTOR__CACHE_BACKEND: "redis",
          ISARTOR__REDIS_URL: `redis://:pw@127.0.0.1:${redis.port}`,
          ISARTOR__REDIS_DB: "3",
        },
      });
      assert.equal(up.code, 0, up.stdout + up.stderr);
      assert.match(
        up.stdout,
        new RegExp(
          `redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}/3: answers \\(PING [\\d.]+ ms\\)`,
        ),
      );
      assert.match(up.stdout, new RegExp(`may reach:.*127\\.0\\.0\\.1:${redis.port}`));
    });
  } finally {
    await redis?.close();
    await mock.close();
  }
});

Deno.test("check: shows the remote embedding and router servers and whether each answers", async () => {
  await withUser(async (user) => {
    await user.run(["set-key", "-p", "ollama"]);
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) =>
        new URL(req.url).pathname === "/embed"
          ? Response.json([[0.5, 0.5]])
          : Response.json({ data: [{ id: "qwen" }] }),
    );
    const up = `http://127.0.0.1:${server.addr.port}`;
    await Deno.writeTextFile(
      `${user.cwd}/isartor.toml`,
      `cache_mode = "both"\nembedding_backend = "remote"\nenable_slm_router = true\nrouter_backend = "vllm"\nvllm_url = "${up}/v1"\nvllm_model = "qwen"\n[embedding_sidecar]\nsidecar_url = "${up}"\n`,
    );
    const r = await user.run(["check", "--json", "--timeout", "2"]);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(
      report.remote_backends.map((b: { layer: string; status: string }) =>
        `${b.layer}: ${b.status}`
      ),
      ["l1b embedder: ok", "l2 router: ok"],
    );
    await server.shutdown();
    const down = await user.run(["check", "--timeout", "1"]);
    assert.match(down.stdout, /Model servers/);
    assert.match(down.stdout, /l1b embedder \(remote\) at .*unreachable.*model-free matcher/);
    assert.match(down.stdout, /l2 router \(vllm\) at .*\/v1\/models: .*L2 passes every request on/);
  });
});
