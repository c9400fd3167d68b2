// The /mcp endpoint's sessions: idle expiry on an injected clock, the cap,
// and what a client sees after its session expired (the SDK's own client).
import assert from "node:assert/strict";
import { McpHttpEndpoint } from "../../../src/mcp/http.ts";
import { Stats } from "../../../src/telemetry/stats.ts";
import { httpClient, resultText, StreamableHTTPError } from "../../support/mcp_client.ts";

/** An endpoint served through a fetch function (no socket), with a clock the test moves. */
function endpoint(options: { idleMs?: number; maxSessions?: number } = {}) {
  let now = 1_000_000;
  const gatewayCalls: string[] = [];
  const mcp = new McpHttpEndpoint({
    gatewayFetch: (req) => {
      gatewayCalls.push(new URL(req.url).pathname);
      return Promise.resolve(Response.json(new Stats({ prices: {} }).report()));
    },
    version: "0.0.0-test",
    idleMs: options.idleMs ?? 60_000,
    maxBodyBytes: 1 << 20,
    tenantHeader: "",
    now: () => now,
    maxSessions: options.maxSessions,
  });
  const fetchImpl = (input: string | URL | Request, init?: RequestInit) =>
    mcp.handle(new Request(input, init), "anonymous");
  return {
    mcp,
    gatewayCalls,
    advance: (ms: number) => (now += ms),
    connect: () => httpClient("http://127.0.0.1/mcp", {}, fetchImpl),
  };
}

Deno.test("mcp sessions: an idle session expires; the client gets 404 and a new session works", async () => {
  const e = endpoint({ idleMs: 60_000 });
  const first = await e.connect();
  assert.equal(e.mcp.size, 1);
  e.advance(59_000);
  assert.equal((await first.client.listTools()).tools.length, 3, "activity keeps it alive");
  e.advance(59_000);
  assert.equal((await first.client.listTools()).tools.length, 3);
  e.advance(60_001);
  await assert.rejects(first.client.listTools(), (err: Error) => {
    assert.ok(err instanceof StreamableHTTPError, String(err));
    assert.equal(err.code, 404);
    assert.match(err.message, /session not found or expired; fix: start a new session/);
    return true;
  });
  assert.equal(e.mcp.size, 0, "the expired session is gone");
  const second = await e.connect();
  assert.notEqual(second.transport.sessionId, first.transport.sessionId);
  const stats = await second.client.callTool({ name: "isartor_stats", arguments: {} });
  assert.match(resultText(stats), /requests: 0/);
  assert.deepEqual(e.gatewayCalls, ["/api/v1/stats"]);
  await first.client.close();
  await second.client.close();
  await e.mcp.close();
});

Deno.test("mcp sessions: past the cap, the session idle longest is closed", async () => {
  const e = endpoint({ maxSessions: 2 });
  const a = await e.connect();
  e.advance(10);
  const b = await e.connect();
  e.advance(10);
  await b.client.listTools();
  const c = await e.connect();
  assert.equal(e.mcp.size, 2);
  await assert.rejects(a.client.listTools(), /session not found/);
  assert.equal((await b.client.listTools()).tools.length, 3);
  assert.equal((await c.client.listTools()).tools.length, 3);
  for (const x of [a, b, c]) await x.client.close();
  await e.mcp.close();
  assert.equal(e.mcp.size, 0);
});

Deno.test("mcp sessions: a request that is not initialize opens nothing", async () => {
  const e = endpoint();
  const res = await e.mcp.handle(
    new Request("http://127.0.0.1/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    }),
    "anonymous",
  );
  assert.equal(res.status, 400);
  await res.body?.cancel();
  assert.equal(e.mcp.size, 0);
  const get = await e.mcp.handle(new Request("http://127.0.0.1/mcp"), "anonymous");
  assert.equal(get.status, 400);
  assert.match((await get.json()).error.message, /needs an Mcp-Session-Id header/);
});
