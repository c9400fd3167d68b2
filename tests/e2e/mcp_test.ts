// The MCP server with the official SDK's client: Streamable HTTP at /mcp and
// stdio (`isartor mcp`), against a real gateway and the mock provider.
import assert from "node:assert/strict";
import { DEFAULT_ANSWER_TEXT } from "../support/mock_upstream.ts";
import { startMockedGateway } from "../support/gateway_harness.ts";
import { cliArgs, cliEnv, isartor } from "../support/cli_runner.ts";
import {
  Client,
  httpClient,
  LATEST_PROTOCOL_VERSION,
  resultText,
  StdioClientTransport,
  StreamableHTTPError,
} from "../support/mcp_client.ts";

const KEY = "gw-test-key-0123456789";

function setup(config: Record<string, unknown> = {}) {
  return startMockedGateway({
    external_llm_api_key: "sk-provider",
    external_llm_model: "mock-model",
    gateway_api_key: KEY,
    tenant_header: "x-tenant",
    ...config,
  });
}

const auth = (tenant = "alice") => ({ authorization: `Bearer ${KEY}`, "x-tenant": tenant });

Deno.test("mcp http: initialize, list tools, chat misses, store, chat hits, cloud on request, stats", async () => {
  await using t = await setup();
  const { client, transport } = await httpClient(`${t.gw.url}/mcp`, auth());
  try {
    assert.equal(client.getServerVersion()?.name, "isartor");
    assert.equal(transport.protocolVersion, LATEST_PROTOCOL_VERSION);
    assert.ok(transport.sessionId, "the server opened a session");
    assert.match(client.getInstructions() ?? "", /isartor_chat first/);

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name), [
      "isartor_chat",
      "isartor_cache_store",
      "isartor_stats",
    ]);
    const chatTool = tools[0];
    assert.deepEqual(chatTool.inputSchema.required, ["prompt"]);
    assert.ok(chatTool.inputSchema.properties?.allow_cloud);

    const prompt = "What is the capital of France?";
    const miss = await client.callTool({ name: "isartor_chat", arguments: { prompt } });
    assert.equal(miss.isError, undefined);
    assert.deepEqual(miss.structuredContent, {
      answered: false,
      layer: null,
      response: "",
      model: "",
    });
    assert.match(resultText(miss), /cache miss.*isartor_cache_store/);
    assert.equal(t.mock.requests.length, 0, "a cache-only ask never reaches the provider");

    const stored = await client.callTool({
      name: "isartor_cache_store",
      arguments: { prompt, response: "Paris." },
    });
    assert.equal(stored.isError, undefined);
    assert.equal((stored.structuredContent as { stored: boolean }).stored, true);
    assert.match((stored.structuredContent as { key: string }).key, /^[0-9a-f]{64}$/);

    const hit = await client.callTool({ name: "isartor_chat", arguments: { prompt } });
    assert.equal(resultText(hit), "Paris.");
    assert.deepEqual(hit.structuredContent, {
      answered: true,
      layer: "l1a",
      response: "Paris.",
      model: "mock-model",
    });

    // The same entry is in the REST API's view of this tenant: one store, two doors.
    const lookup = await fetch(`${t.gw.url}/api/v1/cache/lookup`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ prompt }),
    });
    assert.equal((await lookup.json()).response, "Paris.");

    const cloud = await client.callTool({
      name: "isartor_chat",
      arguments: { prompt: "Tell me something new", allow_cloud: true },
    });
    assert.equal(resultText(cloud), DEFAULT_ANSWER_TEXT);
    assert.equal((cloud.structuredContent as { layer: string }).layer, "l3");
    assert.equal(t.mock.requests.length, 1);
    const sent = t.mock.requests[0].body as { messages: unknown[] };
    assert.deepEqual(sent.messages, [{ role: "user", content: "Tell me something new" }]);
    assert.equal(t.mock.requests[0].headers["cache-control"], undefined);
    const again = await client.callTool({
      name: "isartor_chat",
      arguments: { prompt: "Tell me something new" },
    });
    assert.equal((again.structuredContent as { layer: string }).layer, "l1a");
    assert.equal(t.mock.requests.length, 1);

    const stats = await client.callTool({ name: "isartor_stats", arguments: {} });
    const s = stats.structuredContent as Record<string, number> & {
      layers: Record<string, number>;
    };
    assert.equal(s.deflected, 2, "the two hits");
    assert.equal(s.layers.l3, 1);
    // The miss (a 504 not_cached) is counted at the gateway, as is every refused request.
    assert.ok(s.layers.gateway >= 1, "the miss, a 504 not_cached");
    assert.match(resultText(stats), /deflected: 2/);
    const report = await (await fetch(`${t.gw.url}/api/v1/stats`, { headers: auth() })).json();
    assert.ok(report.tools["isartor MCP"].requests >= 4, "counted under the MCP client tool");
  } finally {
    await client.close();
  }
});

Deno.test("mcp http: tenants do not share entries or sessions; /mcp/ works too", async () => {
  await using t = await setup();
  const a = await httpClient(`${t.gw.url}/mcp/`, auth("alice"));
  const b = await httpClient(`${t.gw.url}/mcp`, auth("bob"));
  try {
    await a.client.callTool({
      name: "isartor_cache_store",
      arguments: { prompt: "secret question", response: "alice's answer" },
    });
    const bobAsks = await b.client.callTool({
      name: "isartor_chat",
      arguments: { prompt: "secret question" },
    });
    assert.equal((bobAsks.structuredContent as { answered: boolean }).answered, false);
    // Bob's key is right, but the session is Alice's: as good as unknown.
    const res = await fetch(`${t.gw.url}/mcp`, {
      method: "POST",
      headers: {
        ...auth("bob"),
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": a.transport.sessionId!,
        "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
    });
    assert.equal(res.status, 404);
    assert.match((await res.json()).error.message, /fix: start a new session/);
  } finally {
    await a.client.close();
    await b.client.close();
  }
});

Deno.test("mcp http: bad arguments and unknown tools are tool errors that say what to fix", async () => {
  await using t = await setup();
  const { client } = await httpClient(`${t.gw.url}/mcp`, auth());
  try {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["isartor_chat", {}, /prompt: missing; fix: send the question as a string/],
      ["isartor_chat", { prompt: 42 }, /prompt: expected a string, got number/],
      ["isartor_chat", { prompt: "   " }, /prompt: empty; fix: send the question/],
      ["isartor_chat", { prompt: "hi", allow_cloud: "yes" }, /allow_cloud: expected true or false/],
      ["isartor_chat", { prompt: "hi", promt: "typo" }, /unknown argument "promt"; fix: use only/],
      ["isartor_cache_store", { prompt: "q" }, /response: missing; fix: send the final answer/],
      ["isartor_stats", { verbose: true }, /unknown argument "verbose"/],
      ["isartor_nope", {}, /Tool isartor_nope not found/],
    ];
    for (const [name, args, want] of cases) {
      const r = await client.callTool({ name, arguments: args });
      assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}`);
      assert.match(resultText(r), want);
    }
    assert.equal(t.mock.requests.length, 0);
  } finally {
    await client.close();
  }
});

Deno.test("mcp http: no key or a wrong key is refused before any session", async () => {
  await using t = await setup();
  const tries: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }];
  for (const headers of tries) {
    await assert.rejects(httpClient(`${t.gw.url}/mcp`, headers), (e: Error) => {
      assert.ok(e instanceof StreamableHTTPError, String(e));
      assert.equal(e.code, 401);
      return true;
    });
  }
  const res = await fetch(`${t.gw.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(res.status, 401);
  assert.match((await res.json()).error.message, /fix: send it as Authorization: Bearer/);
});

Deno.test("mcp http: pages from origins outside allowed_origins are refused", async () => {
  await using t = await setup({
    gateway_api_key: "",
    allowed_origins: ["http://localhost:5173"],
  });
  const init = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "page", version: "1" },
    },
  };
  const post = (origin: string) =>
    fetch(`${t.gw.url}/mcp`, {
      method: "POST",
      headers: {
        origin,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify(init),
    });
  const evil = await post("http://evil.example:8080");
  assert.equal(evil.status, 403);
  assert.match((await evil.json()).error.message, /allowed_origins/);
  const local = await post("http://localhost:5173");
  assert.equal(local.status, 200);
  await local.body?.cancel();
  // Without a key anyone local may connect.
  const { client } = await httpClient(`${t.gw.url}/mcp`);
  assert.equal((await client.listTools()).tools.length, 3);
  await client.close();
});

Deno.test("mcp stdio: isartor mcp serves the same tools against a running gateway", async () => {
  await using t = await setup();
  const home = await Deno.makeTempDir({ prefix: "isartor-mcp-home-" });
  const connect = async (env: Record<string, string>) => {
    const transport = new StdioClientTransport({
      command: Deno.execPath(),
      args: cliArgs(["mcp", "--gateway-url", t.gw.url, "--tenant", "alice"]),
      env: await cliEnv({ HOME: home, ISARTOR__TENANT_HEADER: "x-tenant", ...env }),
      stderr: "pipe",
    });
    const client = new Client({ name: "isartor-test", version: "1.0.0" });
    await client.connect(transport);
    return client;
  };
  try {
    const client = await connect({ ISARTOR__GATEWAY_API_KEY: KEY });
    try {
      assert.equal(client.getServerVersion()?.name, "isartor");
      assert.equal((await client.listTools()).tools.length, 3);
      const prompt = "Which layer answered?";
      const miss = await client.callTool({ name: "isartor_chat", arguments: { prompt } });
      assert.equal((miss.structuredContent as { answered: boolean }).answered, false);
      await client.callTool({
        name: "isartor_cache_store",
        arguments: { prompt, response: "L1a did." },
      });
      const hit = await client.callTool({ name: "isartor_chat", arguments: { prompt } });
      assert.equal(resultText(hit), "L1a did.");
      const bad = await client.callTool({ name: "isartor_chat", arguments: { prompt: 1 } });
      assert.equal(bad.isError, true);
      assert.match(resultText(bad), /prompt: expected a string/);
      const stats = await client.callTool({ name: "isartor_stats", arguments: {} });
      assert.equal((stats.structuredContent as { deflected: number }).deflected, 1);
    } finally {
      await client.close();
    }
    // The same partition as the HTTP transport's caller "alice".
    const { client: http } = await httpClient(`${t.gw.url}/mcp`, auth("alice"));
    const viaHttp = await http.callTool({
      name: "isartor_chat",
      arguments: { prompt: "Which layer answered?" },
    });
    assert.equal(resultText(viaHttp), "L1a did.");
    await http.close();

    // No key: the server starts (the host can list tools), each call says what to fix.
    const keyless = await connect({});
    try {
      const r = await keyless.callTool({ name: "isartor_chat", arguments: { prompt: "hi" } });
      assert.equal(r.isError, true);
      assert.match(resultText(r), /refused the key; fix: .*ISARTOR__GATEWAY_API_KEY/);
    } finally {
      await keyless.close();
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("mcp stdio: the key is never taken from argv; a stopped gateway is reported per call", async () => {
  const home = await Deno.makeTempDir({ prefix: "isartor-mcp-home-" });
  try {
    const refused = await isartor(["mcp", "--gateway-api-key", "k"], { HOME: home });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /not taken from the command line.*ISARTOR__GATEWAY_API_KEY/);
    assert.equal(refused.stdout, "");
    const help = await isartor(["mcp", "--help"], { HOME: home });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /isartor mcp \[--gateway-url URL\]/);
    assert.match(help.stdout, /claude mcp add isartor -- isartor mcp/);

    // Nothing listens on port 9 of loopback.
    const transport = new StdioClientTransport({
      command: Deno.execPath(),
      args: cliArgs(["mcp", "--gateway-url", "http://127.0.0.1:9"]),
      env: await cliEnv({ HOME: home }),
      stderr: "pipe",
    });
    const client = new Client({ name: "isartor-test", version: "1.0.0" });
    await client.connect(transport);
    const r = await client.callTool({ name: "isartor_stats", arguments: {} });
    assert.equal(r.isError, true);
    assert.match(resultText(r), /not reachable at http:\/\/127\.0\.0\.1:9.*isartor up --detach/);
    await client.close();
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
