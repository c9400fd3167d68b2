// Client tools are recognized from real User-Agent strings and telltale headers.
import assert from "node:assert/strict";
import { CLIENT_TOOL_NAMES, detectClientTool } from "../../../src/telemetry/client_tools.ts";

function tool(headers: Record<string, string>): string {
  return detectClientTool(new Headers(headers));
}

Deno.test("client tools: coding agents by User-Agent", () => {
  const cases: [string, string][] = [
    ["claude-cli/2.0.0 (external, cli)", "Claude Code"],
    ["claude-code/2.1.45", "Claude Code"],
    ["claude-cli/2.1.105 (external, sdk-py, agent-sdk/0.1.59)", "Claude Agent SDK"],
    ["claude-cli/2.1.90 (external, sdk-ts)", "Claude Agent SDK"],
    // Claude Code itself in print mode (`claude -p`).
    ["claude-cli/2.1.90 (external, sdk-cli)", "Claude Code"],
    ["codex_cli_rs/0.38.0 (Ubuntu 24.04.2 LTS; x86_64) WindowsTerminal", "Codex"],
    ["codex_exec/0.50.0 (Mac OS 15.1; arm64)", "Codex"],
    ["GeminiCLI/0.1.5 (linux; x64)", "Gemini CLI"],
    ["GitHubCopilotChat/0.26.7", "GitHub Copilot"],
    ["Cursor/1.5.0", "Cursor"],
    ["opencode/0.15.3 ai-sdk/provider-utils/3.0.9 runtime/bun/1.2.21", "OpenCode"],
    ["openclaw/2026.4.25 (darwin)", "OpenClaw"],
    ["OpenAI/JS 4.104.0", "OpenAI SDK (JS)"],
    ["OpenAI/Python 1.54.0", "OpenAI SDK (Python)"],
    ["AsyncOpenAI/Python 1.54.0", "OpenAI SDK (Python)"],
    ["Anthropic/JS 0.65.0", "Anthropic SDK (JS)"],
    ["Anthropic/Python 0.82.0", "Anthropic SDK (Python)"],
    ["curl/8.5.0", "curl"],
    ["Mozilla/5.0 something", "other"],
  ];
  for (const [ua, want] of cases) assert.equal(tool({ "user-agent": ua }), want, ua);
});

Deno.test("client tools: telltale headers win over the SDK's User-Agent", () => {
  // Claude Code runs on the Anthropic SDK; Codex and OpenClaw on their own or the OpenAI SDK.
  assert.equal(tool({ "user-agent": "Anthropic/JS 0.55.1", "x-app": "cli" }), "Claude Code");
  assert.equal(
    tool({
      "user-agent": "Anthropic/JS 0.55.1",
      "anthropic-beta": "claude-code-20250219,oauth-2025-04-20",
    }),
    "Claude Code",
  );
  assert.equal(tool({ "user-agent": "reqwest", originator: "codex_cli_rs" }), "Codex");
  assert.equal(tool({ "user-agent": "OpenAI/JS 6.26.0", "x-openclaw-agent": "main" }), "OpenClaw");
  assert.equal(
    tool({ "user-agent": "node", "copilot-integration-id": "vscode-chat" }),
    "GitHub Copilot",
  );
  assert.equal(tool({ "user-agent": "ai-sdk/4", "x-opencode-session": "s1" }), "OpenCode");
  // Copilot CLI with its own provider (BYOK) speaks through a plain SDK.
  assert.equal(tool({ "user-agent": "OpenAI/JS 5.0.0", "x-initiator": "user" }), "GitHub Copilot");
  assert.equal(
    tool({ "user-agent": "Anthropic/JS 0.60.0", "x-interaction-type": "conversation-agent" }),
    "GitHub Copilot",
  );
});

Deno.test("client tools: an X-Title names other apps, made safe to show", () => {
  assert.equal(tool({ "user-agent": "node-fetch", "x-title": "Cline" }), "Cline");
  assert.equal(tool({ "x-title": ` Roo\u0007 Code ${"x".repeat(80)}` }).length, 40);
});

Deno.test("client tools: no User-Agent is unknown; every rule name is listed", () => {
  assert.equal(tool({}), "unknown");
  for (const name of ["Claude Code", "Codex", "Gemini CLI", "OpenCode", "OpenClaw", "unknown"]) {
    assert.ok(CLIENT_TOOL_NAMES.includes(name), name);
  }
});
