// `connect status`: each connected tool gets a live test in its own protocol through a real
// gateway (on 127.0.0.1, mock provider behind it), and the layer that answered.
import assert from "node:assert/strict";
import { applyChanges, planChanges } from "../../../cli/connect/backup.ts";
import { runConnectStatus } from "../../../cli/connect/status.ts";
import type { ConnectContext } from "../../../cli/connect/target.ts";
import { TARGETS } from "../../../cli/connect/targets.ts";
import type { CliIO } from "../../../cli/io.ts";
import { startGateway } from "../../support/gateway_harness.ts";
import { startMockUpstream } from "../../support/mock_upstream.ts";

const KEY = "gw-status-key-0123456789";

function ctxFor(home: string, gatewayUrl: string, gatewayKey: string): ConnectContext {
  return {
    home,
    env: {},
    platform: "linux",
    gatewayUrl,
    gatewayKey,
    defaultModel: "gpt-4o-mini",
    mcp: { command: "isartor", args: ["mcp"] },
    dataDir: `${home}/.isartor`,
    extra: {},
  };
}

function capture(): { io: CliIO; out: string[] } {
  const out: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), isTty: false };
  return { io: io as unknown as CliIO, out };
}

Deno.test("connect status: a live test per connected tool in its protocol, --json, keys masked", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai",
    external_llm_url: `${mock.url}/v1`,
    external_llm_api_key: "sk-provider",
    gateway_api_key: KEY,
    cache_mode: "exact",
    cache_backend: "memory",
  });
  const home = await Deno.makeTempDir({ prefix: "isartor-status-" });
  try {
    const ctx = ctxFor(home, gw.url, KEY);
    const stateDir = `${ctx.dataDir}/connect`;
    for (const tool of ["claude", "codex", "gemini", "opencode", "cursor"]) {
      await applyChanges(stateDir, tool, gw.url, planChanges(TARGETS[tool].files(ctx)));
    }
    const { io, out } = capture();
    assert.equal(await runConnectStatus(ctx, stateDir, io, { json: true, test: true }), 0);
    const text = out.join("\n");
    assert.ok(!text.includes(KEY), "the key is never printed");
    const report = JSON.parse(text) as {
      tools: { tool: string; connected: boolean; test: Record<string, unknown> | null }[];
    };
    const by = Object.fromEntries(report.tools.map((t) => [t.tool, t]));
    const expect: Record<string, [string, string]> = {
      claude: ["anthropic", "/v1/messages"],
      codex: ["openai_responses", "/v1/responses"],
      gemini: ["gemini", "/v1beta/models/gpt-4o-mini:generateContent"],
      opencode: ["openai_chat", "/v1/chat/completions"],
      cursor: ["mcp", "/mcp"],
    };
    for (const [tool, [protocol, path]] of Object.entries(expect)) {
      const t = by[tool];
      assert.equal(t.connected, true, tool);
      assert.equal(t.test?.protocol, protocol, tool);
      assert.equal(t.test?.path, path, tool);
      assert.equal(t.test?.ok, true, `${tool}: ${JSON.stringify(t.test)}`);
      assert.equal(t.test?.status, 200, tool);
    }
    assert.equal(by.claude.test?.layer, "l3");
    assert.equal(by.claude.test?.provider, "openai");
    assert.equal(by.cursor.test?.layer, "mcp");
    assert.equal(by.copilot.test, null, "not connected: no test");
    // Each protocol reached the provider (translated to its chat API) with the gateway's key
    // accepted in that tool's own header.
    assert.equal(mock.requests.filter((r) => r.path === "/v1/chat/completions").length, 3);
    assert.equal(mock.requests.filter((r) => r.path === "/v1/responses").length, 1);

    // Run again: the same requests are answered from the exact cache.
    const again = capture();
    await runConnectStatus(ctx, stateDir, again.io, { json: false, test: true });
    const lines = again.out.join("\n");
    assert.match(lines, /claude\s+connected/);
    assert.match(lines, /test\s+anthropic \/v1\/messages: 200, answered by l1a/);
    assert.match(lines, /test\s+mcp \/mcp: 200, answered by mcp/);
    assert.match(lines, /copilot\s+not connected/);
  } finally {
    await gw.close();
    await mock.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("connect status: a gateway that is down is said per tool", async () => {
  const home = await Deno.makeTempDir({ prefix: "isartor-status-" });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  try {
    const ctx = ctxFor(home, url, "");
    const stateDir = `${ctx.dataDir}/connect`;
    await applyChanges(stateDir, "claude", url, planChanges(TARGETS.claude.files(ctx)));
    const { io, out } = capture();
    await runConnectStatus(ctx, stateDir, io, { json: false, test: true });
    assert.match(out.join("\n"), /anthropic \/v1\/messages: the gateway did not answer/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
