import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/load.ts";
import { healthProbe, probeRemoteBackends } from "../../../src/telemetry/backend_probe.ts";
import { startGateway } from "../../support/gateway_harness.ts";
import { freePort } from "../../support/cli_runner.ts";

/** A model server on loopback: TEI's POST /embed and an OpenAI-style GET /v1/models. */
function modelServer(models: string[] | null): Deno.HttpServer<Deno.NetAddr> & { hits: string[] } {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.push(`${req.method} ${path}`);
    if (req.method === "POST" && path === "/embed") return Response.json([[0.1, 0.2, 0.3]]);
    if (req.method === "GET" && path === "/v1/models" && models) {
      return Response.json({ object: "list", data: models.map((id) => ({ id })) });
    }
    return new Response("not found", { status: 404 });
  });
  return Object.assign(server, { hits });
}

const config = (url: string, extra: Record<string, unknown> = {}) =>
  parseConfig({
    cache_mode: "both",
    embedding_backend: "remote",
    embedding_sidecar: { sidecar_url: url },
    enable_slm_router: true,
    router_backend: "vllm",
    vllm_url: `${url}/v1`,
    vllm_model: "qwen",
    ...extra,
  });

Deno.test("backend probe: an answering embedding server and router server are ok, with what they serve", async () => {
  await using server = modelServer(["qwen", "other"]);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const [embedder, router] = await probeRemoteBackends(config(url), 2);
  assert.equal(embedder.layer, "l1b embedder");
  assert.equal(embedder.status, "ok");
  assert.equal(embedder.target, `${url}/embed`);
  assert.match(embedder.message, /answers \(TEI API, tei, 3 dims\)/);
  assert.equal(router.layer, "l2 router");
  assert.equal(router.status, "ok", router.message);
  assert.equal(router.target, `${url}/v1/models`);
  assert.equal(typeof router.latency_ms, "number");
});

Deno.test("backend probe: a router server without vllm_model, or without a model list", async () => {
  await using server = modelServer(["other"]);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const [, router] = await probeRemoteBackends(config(url), 2);
  assert.equal(router.status, "error");
  assert.match(router.message, /does not serve vllm_model "qwen" \(it serves: other\)/);
  await using bare = modelServer(null);
  const [, listless] = await probeRemoteBackends(
    config(`http://127.0.0.1:${bare.addr.port}`),
    2,
  );
  assert.equal(listless.status, "ok");
  assert.match(listless.message, /no \/v1\/models list/);
});

Deno.test("backend probe: nothing listening is unreachable; layers that are off are not probed", async () => {
  const url = `http://127.0.0.1:${freePort()}`;
  const probes = await probeRemoteBackends(config(url), 2);
  assert.deepEqual(probes.map((p) => p.status), ["unreachable", "unreachable"]);
  assert.match(probes[0].message, /unreachable/);
  assert.deepEqual(
    await probeRemoteBackends(config(url, { cache_mode: "exact", enable_slm_router: false }), 2),
    [],
  );
});

Deno.test("backend probe: /health polled often probes once per interval", async () => {
  await using server = modelServer(["qwen"]);
  const probe = healthProbe(config(`http://127.0.0.1:${server.addr.port}`), { ttlMs: 60_000 });
  for (let i = 0; i < 5; i++) assert.equal((await probe()).length, 2);
  assert.equal(server.hits.filter((h) => h === "GET /v1/models").length, 1);
});

Deno.test("backend probe: /health lists the remote backends and whether they answer", async () => {
  await using server = modelServer(["qwen"]);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const gw = await startGateway({
    embedding_backend: "remote",
    embedding_sidecar: { sidecar_url: url },
    cache_mode: "both",
    enable_slm_router: true,
    router_backend: "vllm",
    vllm_url: url,
    vllm_model: "qwen",
  });
  try {
    const health = await (await fetch(`${gw.url}/health`)).json();
    assert.deepEqual(
      health.remote_backends.map((b: { layer: string; status: string }) => [b.layer, b.status]),
      [["l1b embedder", "ok"], ["l2 router", "ok"]],
    );
  } finally {
    await gw.close();
  }
});
