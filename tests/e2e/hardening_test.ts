// Hardening (issue 11): shared partitions under a gateway key, the documented auth forms, stats
// per tenant, timeouts for token counting and slow clients, private data files.
import assert from "node:assert/strict";
import { startGateway, startMockedGateway } from "../support/gateway_harness.ts";
import { openSlow, readReply } from "../support/raw_http.ts";
import { secureDataDir } from "../../src/config/data_dir.ts";
import { KvByteStore } from "../../src/cache/kv_store.ts";

const CHAT = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "What is 2+2?" }],
});

function setup(config: Record<string, unknown> = {}) {
  return startMockedGateway(config);
}

async function chat(url: string, headers: Record<string, string>) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: CHAT,
  });
  await res.body?.cancel();
  return { status: res.status, layer: res.headers.get("x-isartor-layer") };
}

Deno.test("partition: under a gateway key, each forwarded provider credential has its own cache", async () => {
  // Pass-through: no provider key configured, clients forward their own.
  await using t = await setup({ gateway_api_key: "gw", external_llm_api_key: "" });
  const a = { authorization: "Bearer gw", "x-api-key": "sk-client-a" };
  assert.equal((await chat(t.gw.url, a)).layer, "l3");
  assert.equal((await chat(t.gw.url, a)).layer, "l1a", "the same credential hits");
  const b = { authorization: "Bearer gw", "x-api-key": "sk-invalid-b" };
  assert.equal((await chat(t.gw.url, b)).layer, "l3", "another credential never gets a's answer");
  const none = { authorization: "Bearer gw" };
  assert.equal((await chat(t.gw.url, none)).layer, "l3", "no credential never gets a's answer");
  assert.equal(t.mock.requests.length, 3);
  assert.equal(t.mock.requests[1].headers.authorization, "Bearer sk-invalid-b");
});

Deno.test("auth: only the documented forms carry the gateway key", async () => {
  await using t = await setup({ gateway_api_key: "gw", external_llm_api_key: "sk-p" });
  assert.equal((await chat(t.gw.url, { authorization: "gw" })).status, 401);
  assert.equal((await chat(t.gw.url, { authorization: "Basic gw" })).status, 401);
  assert.equal((await chat(t.gw.url, { authorization: "Bearer gw" })).status, 200);
  assert.equal((await chat(t.gw.url, { authorization: "bearer  gw" })).status, 200);
  assert.equal((await chat(t.gw.url, { "x-api-key": "gw" })).status, 200);
});

Deno.test("stats: a caller sees its own tenant; the admin key sees all", async () => {
  await using t = await setup({
    gateway_api_key: "gw",
    admin_api_key: "adm",
    tenant_header: "x-team",
    external_llm_api_key: "sk-p",
  });
  await chat(t.gw.url, { authorization: "Bearer gw", "x-team": "alpha" });
  await chat(t.gw.url, { authorization: "Bearer gw", "x-team": "alpha" });
  await chat(t.gw.url, { authorization: "Bearer gw", "x-team": "beta" });
  const stats = async (headers: Record<string, string>) =>
    await (await fetch(`${t.gw.url}/api/v1/stats`, { headers })).json();
  const beta = await stats({ authorization: "Bearer gw", "x-team": "beta" });
  assert.equal(beta.scope, "tenant");
  assert.equal(beta.totals.requests, 1);
  assert.equal(beta.recent.length, 1);
  const gamma = await stats({ authorization: "Bearer gw", "x-team": "gamma" });
  assert.equal(gamma.totals.requests, 0);
  assert.deepEqual(gamma.recent, []);
  const admin = await stats({ authorization: "Bearer adm" });
  assert.equal(admin.scope, "gateway");
  assert.equal(admin.totals.requests, 3);
  // The admin key also passes the gateway check on the other routes.
  assert.equal((await chat(t.gw.url, { "x-api-key": "adm" })).status, 200);
});

Deno.test("timeouts: count_tokens gives up after l3_timeout_secs", async () => {
  // An Anthropic upstream that never answers the count.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new Promise<Response>((resolve) => {
        req.signal.addEventListener("abort", () => resolve(new Response(null, { status: 499 })));
      }),
  );
  const gw = await startGateway({
    llm_provider: "anthropic",
    external_llm_url: `http://127.0.0.1:${server.addr.port}`,
    external_llm_api_key: "sk-ant",
    l3_timeout_secs: 0.2,
  });
  try {
    const res = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude", messages: [{ role: "user", content: "count" }] }),
    });
    assert.equal(res.status, 504);
    const body = await res.json();
    assert.equal(body.type, "error");
    assert.match(body.error.message, /l3_timeout_secs/);
  } finally {
    await gw.close();
    await server.shutdown();
  }
});

Deno.test("timeouts: a client that sends its body too slowly gets 408", async () => {
  await using t = await setup({ request_read_timeout_secs: 0.2, external_llm_api_key: "sk-p" });
  const u = new URL(t.gw.url);
  // Slowloris: announce 1000 bytes, send 10, then nothing.
  const conn = await openSlow(
    t.gw.url,
    `POST /v1/chat/completions HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n` +
      `content-length: 1000\r\n\r\n{"model":`,
  );
  const reply = await readReply(conn);
  assert.equal(reply.status, 408);
  assert.match(JSON.parse(reply.body).error.message, /request_read_timeout_secs/);
  assert.equal(t.mock.requests.length, 0);
});

Deno.test("files: the data directory is 0700, cache.kv and the log 0600, tightened at start", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-modes-" });
  try {
    Deno.chmodSync(dir, 0o755);
    Deno.writeTextFileSync(`${dir}/isartor.log`, "old log\n", { mode: 0o644 });
    Deno.chmodSync(`${dir}/isartor.log`, 0o644);
    Deno.writeTextFileSync(`${dir}/notes.txt`, "not ours", { mode: 0o644 });
    Deno.chmodSync(`${dir}/notes.txt`, 0o644);
    const warnings = secureDataDir(dir);
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings.join("\n"), /tightened/);
    const mode = (p: string) => (Deno.statSync(p).mode ?? 0) & 0o777;
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(`${dir}/isartor.log`), 0o600);
    assert.equal(mode(`${dir}/notes.txt`), 0o644, "other files are left alone");
    assert.deepEqual(secureDataDir(dir), [], "nothing to say the second time");
    // A new cache database (and its SQLite companions) is private from the start.
    const store = await KvByteStore.open(`${dir}/cache.kv`);
    await store.set(["k"], new Uint8Array([1, 2, 3]), 60_000);
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.startsWith("cache.kv")) assert.equal(mode(`${dir}/${e.name}`), 0o600, e.name);
    }
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
