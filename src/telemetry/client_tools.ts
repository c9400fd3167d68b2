/**
 * Which client tool sent a request, from its `User-Agent` and a few telltale
 * headers. Used to break the stats down by tool; never used for decisions.
 *
 * Real strings these rules were written against:
 * - Claude Code: `claude-cli/2.0.0 (external, cli)`, `claude-cli/2.1.90 (external, sdk-cli)`
 *   (print mode, `claude -p`), `claude-code/2.1.45`,
 *   `x-app: cli`, `anthropic-beta: claude-code-20250219,...`; the Claude Agent
 *   SDK sends `claude-cli/2.1.105 (external, sdk-py, agent-sdk/0.1.59)`
 * - Codex: `codex_cli_rs/0.38.0 (Ubuntu 24.04; x86_64) ...`, `originator: codex_cli_rs`
 * - Gemini CLI: `GeminiCLI/0.1.5 (linux; x64)`
 * - GitHub Copilot: `GitHubCopilotChat/0.26.7`, `copilot-integration-id: vscode-chat`; the
 *   Copilot CLI with BYOK: `x-initiator: user|agent`, `x-interaction-type: ...`
 * - OpenCode: `opencode/0.x ...`, `x-opencode-session`
 * - OpenClaw: `openclaw/...`, `x-openclaw-agent` (else it looks like `OpenAI/JS 6.26.0`)
 * - SDKs (Stainless-generated): `OpenAI/JS 4.x`, `OpenAI/Python 1.x`,
 *   `AsyncOpenAI/Python 1.x`, `Anthropic/JS 0.x`, `Anthropic/Python 0.x`
 *
 * @module
 */

import { headerRecord } from "../http/header_record.ts";

/** A rule: a display name and a test over the lowercased User-Agent and the headers. */
interface Rule {
  name: string;
  test(ua: string, headers: Readonly<Record<string, string>>): boolean;
}

const RULES: readonly Rule[] = [
  {
    name: "Claude Agent SDK",
    // `sdk-cli` is Claude Code itself in print mode (`claude -p`), not the SDK.
    test: (ua) => /^claude-(cli|code)\//.test(ua) && /agent-sdk|sdk-(ts|py)\b/.test(ua),
  },
  {
    name: "Claude Code",
    test: (ua, h) =>
      /^claude-(cli|code)\//.test(ua) || h["x-app"] === "cli" ||
      (h["anthropic-beta"] ?? "").includes("claude-code-"),
  },
  {
    name: "Codex",
    test: (ua, h) => /^codex[_-]/.test(ua) || (h["originator"] ?? "").startsWith("codex"),
  },
  // `GeminiCLI/0.1.5 (...)`, `GeminiCLI-tui/0.61.0/<model> (...)`.
  { name: "Gemini CLI", test: (ua) => ua.startsWith("geminicli") || ua.includes("gemini-cli") },
  {
    name: "GitHub Copilot",
    test: (ua, h) =>
      ua.includes("githubcopilot") || "copilot-integration-id" in h ||
      (h["editor-plugin-version"] ?? "").startsWith("copilot") ||
      // Copilot CLI in BYOK mode (its own provider URL) sends these on every model call.
      "x-initiator" in h || "x-interaction-type" in h,
  },
  { name: "Cursor", test: (ua, h) => /\bcursor\//.test(ua) || "x-cursor-client-version" in h },
  { name: "OpenCode", test: (ua, h) => ua.includes("opencode") || "x-opencode-session" in h },
  { name: "OpenClaw", test: (ua, h) => ua.includes("openclaw") || "x-openclaw-agent" in h },
  { name: "Aider", test: (ua) => ua.startsWith("aider/") },
  // Our own MCP tools (src/mcp/) calling the gateway for a host.
  { name: "isartor MCP", test: (ua) => ua.startsWith("isartor-mcp/") },
  { name: "OpenAI SDK (JS)", test: (ua) => ua.startsWith("openai/js") },
  { name: "OpenAI SDK (Python)", test: (ua) => /^(async)?openai\/python/.test(ua) },
  { name: "Anthropic SDK (JS)", test: (ua) => ua.startsWith("anthropic/js") },
  { name: "Anthropic SDK (Python)", test: (ua) => /^(async)?anthropic\/python/.test(ua) },
  { name: "Vercel AI SDK", test: (ua) => ua.startsWith("ai-sdk/") || ua.includes(" ai-sdk/") },
  { name: "LiteLLM", test: (ua) => ua.startsWith("litellm") },
  { name: "curl", test: (ua) => ua.startsWith("curl/") },
];

/** Every name {@linkcode detectClientTool} can return besides an `X-Title`. */
export const CLIENT_TOOL_NAMES: readonly string[] = [
  ...RULES.map((r) => r.name),
  "other",
  "unknown",
];

/** An `X-Title` (OpenRouter-style app name: Cline, Roo Code, Kilo Code...), made safe to show. */
function titleName(title: string | undefined): string | null {
  if (!title) return null;
  const clean = title.replace(/[^\x20-\x7e]/g, "").trim().slice(0, 40);
  return clean || null;
}

/**
 * The client tool that sent a request: a display name such as `"Claude Code"`,
 * `"Codex"` or `"OpenAI SDK (Python)"`; `"other"` for an unrecognized
 * User-Agent and `"unknown"` when there is none.
 *
 * @example
 * ```ts
 * detectClientTool(new Headers({ "user-agent": "claude-cli/2.0.0 (external, cli)" })); // "Claude Code"
 * detectClientTool(new Headers({ "user-agent": "OpenAI/Python 1.54.0" })); // "OpenAI SDK (Python)"
 * ```
 */
export function detectClientTool(headers: Headers): string {
  const h = headerRecord(headers);
  const raw = h["user-agent"];
  const ua = (raw ?? "").toLowerCase().trim();
  for (const rule of RULES) if (rule.test(ua, h)) return rule.name;
  const title = titleName(h["x-title"]);
  if (title) return title;
  return raw ? "other" : "unknown";
}

/** The Prometheus `client` label of each known tool: `"Claude Code"` → `"claude_code"`. */
const CLIENT_LABELS = new Map(
  CLIENT_TOOL_NAMES.map((
    n,
  ) => [n, n.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "")]),
);

/**
 * The `client` label of a tool name from {@linkcode detectClientTool}: a slug
 * of a known tool, else `"other"` (an `X-Title` can be anything: a label
 * value must come from a bounded set).
 *
 * @example
 * ```ts
 * clientLabel("OpenAI SDK (Python)"); // "openai_sdk_python"
 * clientLabel("My Own App"); // "other"
 * ```
 */
export function clientLabel(tool: string): string {
  return CLIENT_LABELS.get(tool) ?? "other";
}
