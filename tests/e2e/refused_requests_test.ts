// Requests the gateway refuses itself are counted like any other: stats, metrics, request log.
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";

Deno.test("refused requests: counted as errors in stats, metrics and the request log, layer gateway", async () => {
  const mock = await startMockUpstream();
  const dataDir = await Deno.makeTempDir({ prefix: "isartor-refused-" });
  const gw = await startGateway({
    llm_provider: "openai",
    external_llm_url: `${mock.url}/v1`,
    external_llm_api_key: "sk-provider",
    gateway_api_key: "gw-key",
    admin_api_key: "admin-key",
    max_request_body_bytes: 1000,
    data_dir: dataDir,
  });
  try {
    const auth = { authorization: "Bearer gw-key", "user-agent": "curl/8.5.0" };
    const post = (path: string, body: string, headers: Record<string, string> = auth) =>
      fetch(`${gw.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const refusals: [Promise<Response>, number][] = [
      [post("/v1/chat/completions", '{"model":"m","messages":[]}', {}), 401],
      [post("/v1/chat/completions", "{not json"), 400],
      [post("/v1/messages", JSON.stringify({ model: "m", pad: "x".repeat(2000) })), 413],
      [fetch(`${gw.url}/v1/nope`, { headers: auth }), 404],
      [fetch(`${gw.url}/v1/chat/completions`, { headers: auth }), 405],
    ];
    for (const [pending, status] of refusals) {
      const res = await pending;
      await res.body?.cancel();
      assert.equal(res.status, status);
      assert.equal(res.headers.get("x-isartor-layer"), "gateway", String(status));
      assert.ok(res.headers.get("x-isartor-request-id"));
    }
    // One answered request beside them.
    const ok = await post(
      "/v1/chat/completions",
      JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    );
    await ok.text();
    assert.equal(ok.status, 200);

    // The unauthenticated 401 belongs to no tenant: the admin sees it, the key's own view does not.
    const admin = { authorization: "Bearer admin-key" };
    const own = await (await fetch(`${gw.url}/api/v1/stats`, { headers: auth })).json();
    assert.equal(own.totals.requests, 5);
    const stats = await (await fetch(`${gw.url}/api/v1/stats`, { headers: admin })).json();
    assert.equal(stats.totals.requests, 6);
    assert.equal(stats.totals.errors, 5);
    assert.equal(stats.layers.gateway.errors, 5);
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: auth })).text();
    for (const status of [401, 400, 413, 404, 405]) {
      assert.match(metrics, new RegExp(`layer="gateway"[^}]*status="${status}"`), String(status));
    }
  } finally {
    await gw.close();
    await mock.close();
  }
  const log = (await Deno.readTextFile(`${dataDir}/requests.jsonl`)).trim().split("\n")
    .map((l) => JSON.parse(l));
  await Deno.remove(dataDir, { recursive: true });
  assert.deepEqual(
    log.filter((r) => r.layer === "gateway").map((r) => r.status).sort(),
    [400, 401, 404, 405, 413],
  );
  assert.equal(log.length, 6);
});

Deno.test("the root answers 200 with a short status, GET and HEAD, without a key", async () => {
  const gw = await startGateway({ llm_provider: "openai", gateway_api_key: "gw-key" });
  try {
    const get = await fetch(`${gw.url}/`);
    assert.equal(get.status, 200);
    const body = await get.json();
    assert.equal(body.status, "ok");
    assert.equal(body.service, "isartor");
    const head = await fetch(`${gw.url}/`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  } finally {
    await gw.close();
  }
});
