/**
 * `isartor connect copilot-vscode`: GitHub Copilot Chat in VS Code. Both files
 * live in the VS Code user folder (`~/.config/Code/User` on Linux, honouring
 * XDG_CONFIG_HOME; `~/Library/Application Support/Code/User` on macOS;
 * `%APPDATA%\Code\User` on Windows):
 *
 * - `chatLanguageModels.json`: the "Custom Endpoint" (BYOK) language models,
 *   an array of provider groups; we add the group named `isartor` (vendor
 *   `customendpoint`, Chat Completions) with the gateway's chat URL.
 * - `mcp.json`: user MCP servers (top-level `servers`); we add `isartor`.
 *
 * MCP servers and BYOK models moved out of `settings.json` into these files;
 * `settings.json` itself is not touched.
 *
 * @module
 */

import {
  appConfigDir,
  type ConnectContext,
  type ConnectTarget,
  join,
  mcpServerEntry,
  secretOf,
  tokenFor,
} from "./target.ts";

/** The VS Code user folder for this OS. */
export function vscodeUserDir(ctx: ConnectContext): string {
  return join(appConfigDir(ctx), "Code", "User");
}

/** Copilot Chat in VS Code. */
export const copilotVscode: ConnectTarget = {
  name: "copilot-vscode",
  label: "GitHub Copilot in VS Code",
  summary:
    "VS Code Copilot Chat: a Custom Endpoint model group and the MCP server in the user folder",
  options: ["model"],
  probe: "openai_chat",
  files: (ctx) => {
    const model = ctx.model || ctx.defaultModel;
    return [
      {
        path: join(vscodeUserDir(ctx), "chatLanguageModels.json"),
        format: "jsonc",
        root: "array",
        label: "VS Code language models (BYOK)",
        secret: secretOf(ctx),
        settings: [{
          path: [{ where: "name", is: "isartor" }],
          value: {
            name: "isartor",
            vendor: "customendpoint",
            apiKey: tokenFor(ctx),
            apiType: "chat-completions",
            models: [{
              id: model,
              name: `${model} (isartor)`,
              url: `${ctx.gatewayUrl}/v1/chat/completions`,
              toolCalling: true,
              vision: false,
              maxInputTokens: 128000,
              maxOutputTokens: 16000,
            }],
          },
        }],
      },
      {
        path: join(vscodeUserDir(ctx), "mcp.json"),
        format: "jsonc",
        label: "VS Code MCP servers",
        settings: [{
          path: ["servers", "isartor"],
          value: { type: "stdio", ...mcpServerEntry(ctx) },
        }],
      },
    ];
  },
  notes: () => [
    "reload VS Code, then pick the isartor model in the Copilot Chat model picker",
    "Copilot Business/Enterprise: an admin must allow Bring Your Own Language Model Key",
  ],
};
