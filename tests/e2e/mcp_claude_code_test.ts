// A real MCP host end to end: Claude Code (from npm) with `isartor mcp`
// registered through an --mcp-config file, talking to the gateway, which
// relays to the mock provider. The mock asks for `isartor_chat`; the call goes
// through the MCP server to the gateway's cache, and its result comes back to
// the "model" (the mock sees the tool_result).
import assert from "node:assert/strict";
import { type MockToolCall, startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { cliArgs, cliEnv } from "../support/cli_runner.ts";
import { ensureCli } from "../support/agent_clis.ts";
import { agentClisSkipped } from "../support/agent_harness.ts";

const KEY = "gw-test-key-0123456789";

const skip = agentClisSkipped();
if (skip) console.log(`mcp + claude code: skipped: ${skip}`);

Deno.test({
  name: "mcp + Claude Code: the model calls isartor_chat and gets the cached answer",
  ignore: skip !== null,
}, async () => {
  // The pinned Claude Code of the agent suite, from its shared cache.
  const claude = await ensureCli("claude");
  const call: MockToolCall = {
    id: "toolu_isartor_1",
    name: "mcp__isartor__isartor_chat",
    arguments: JSON.stringify({ prompt: "What is isartor?" }),
  };
  const mock = await startMockUpstream({
    // The "model": with isartor's tool offered, call it; once its result is back, conclude.
    answerFor: (body) => {
      const tools = (body.tools as { name?: string }[] | undefined) ?? [];
      if (!tools.some((t) => t.name === call.name)) return null;
      return JSON.stringify(body.messages).includes('"tool_result"')
        ? { text: "isartor says it is a local-first LLM gateway." }
        : { toolCall: call };
    },
  });
  const gw = await startGateway({
    llm_provider: "anthropic",
    external_llm_url: mock.url,
    external_llm_api_key: "sk-ant-provider",
    cache_mode: "exact",
    cache_backend: "memory",
    gateway_api_key: KEY,
  });
  const home = await Deno.makeTempDir({ prefix: "isartor-cc-home-" });
  try {
    const seeded = await fetch(`${gw.url}/api/v1/cache/store`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "What is isartor?", response: "A local-first LLM gateway." }),
    });
    assert.equal(seeded.status, 201);
    await seeded.body?.cancel();

    // The host's config file, as `isartor connect` writes one: the key in the
    // server's env, in a 0600 file, never in an argument.
    const config = `${home}/mcp.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        mcpServers: {
          isartor: {
            type: "stdio",
            command: Deno.execPath(),
            args: cliArgs(["mcp", "--gateway-url", gw.url]),
            env: { ISARTOR__GATEWAY_API_KEY: KEY },
          },
        },
      }),
      { mode: 0o600 },
    );
    const out = await new Deno.Command(claude, {
      args: [
        "-p",
        "Ask isartor what isartor is.",
        "--mcp-config",
        config,
        "--strict-mcp-config",
        "--allowedTools",
        "mcp__isartor__isartor_chat",
        // The default model's turn carries a mid-conversation system message
        // that the gateway's validator refuses until the gemini branch lands.
        "--model",
        "claude-sonnet-4-6",
        "--output-format",
        "json",
      ],
      env: await cliEnv({
        HOME: home,
        ANTHROPIC_BASE_URL: gw.url,
        ANTHROPIC_AUTH_TOKEN: KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        // Offer MCP tools directly instead of behind Claude Code's tool search.
        ENABLE_TOOL_SEARCH: "false",
      }),
      clearEnv: true,
      cwd: home,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(180_000),
    }).output();
    const dec = new TextDecoder();
    const stdout = dec.decode(out.stdout);
    assert.equal(out.code, 0, `claude failed:\n${stdout}\n${dec.decode(out.stderr)}`);
    const result = JSON.parse(stdout);
    assert.equal(result.is_error, false);
    assert.equal(result.result, "isartor says it is a local-first LLM gateway.");

    // The model's two turns went through the gateway to the mock; the second
    // carries isartor's answer as the tool result of the model's call.
    const turns = mock.requests.filter((r) => r.rawBody.includes(call.name));
    assert.equal(turns.length, 2, "the tool call turn and the conclusion");
    const messages = (turns[1].body as { messages: { role: string; content: unknown }[] }).messages;
    const toolResult = messages.flatMap((m) => Array.isArray(m.content) ? m.content : [])
      .find((b) => (b as { type?: string }).type === "tool_result") as
        | { tool_use_id: string; content: unknown }
        | undefined;
    assert.ok(toolResult, "the mock saw a tool_result");
    assert.equal(toolResult.tool_use_id, call.id);
    const content = JSON.stringify(toolResult.content);
    assert.match(content, /A local-first LLM gateway\./);
    assert.match(content, /l1a/);

    // The tool's call reached the gateway as a cache hit of the MCP client tool.
    const stats = await (await fetch(`${gw.url}/api/v1/stats`, {
      headers: { authorization: `Bearer ${KEY}` },
    })).json();
    assert.equal(stats.tools["isartor MCP"]?.deflected, 1);
    // `claude -p` says `sdk-cli` in its user agent: counted as the Claude Agent SDK.
    const host = stats.tools["Claude Agent SDK"] ?? stats.tools["Claude Code"];
    assert.ok(host?.requests >= 2, JSON.stringify(Object.keys(stats.tools)));
  } finally {
    await gw.close();
    await mock.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
