/**
 * `isartor connect copilot`: GitHub Copilot CLI takes a custom model provider
 * (BYOK) from environment variables only (`copilot help environment`:
 * COPILOT_PROVIDER_BASE_URL, COPILOT_PROVIDER_API_KEY, COPILOT_MODEL...), so
 * those go in a file to source, `<data_dir>/connect/copilot.env` (0600). The
 * isartor MCP server is registered in `$COPILOT_HOME/mcp-config.json`
 * (default `~/.copilot/`), in the shape `copilot mcp add` writes.
 *
 * @module
 */

import {
  type ConnectContext,
  type ConnectTarget,
  envFileSpec,
  join,
  mcpServerEntry,
  sourceNote,
} from "./target.ts";

/** Copilot CLI's directory. */
export function copilotHome(ctx: ConnectContext): string {
  return ctx.env.COPILOT_HOME || join(ctx.home, ".copilot");
}

/** GitHub Copilot CLI. */
export const copilot: ConnectTarget = {
  name: "copilot",
  label: "GitHub Copilot CLI",
  summary:
    "Copilot CLI: BYOK variables in a file to source, MCP server in ~/.copilot/mcp-config.json",
  options: ["model"],
  probe: "openai_chat",
  files: (ctx) => {
    const env = [
      { path: ["COPILOT_PROVIDER_BASE_URL"], value: `${ctx.gatewayUrl}/v1` },
      { path: ["COPILOT_PROVIDER_TYPE"], value: "openai" },
      { path: ["COPILOT_MODEL"], value: ctx.model || ctx.defaultModel },
    ];
    if (ctx.gatewayKey) env.push({ path: ["COPILOT_PROVIDER_API_KEY"], value: ctx.gatewayKey });
    return [
      envFileSpec(ctx, "copilot", "Copilot CLI provider variables", env),
      {
        path: join(copilotHome(ctx), "mcp-config.json"),
        format: "jsonc",
        label: "Copilot CLI MCP servers",
        settings: [{
          path: ["mcpServers", "isartor"],
          value: { type: "local", ...mcpServerEntry(ctx), tools: ["*"] },
        }],
      },
    ];
  },
  notes: (ctx) => [
    "Copilot CLI reads its provider from the environment only: " +
    sourceNote(ctx, "copilot", "in the shell (or your shell profile) before `copilot`"),
  ],
};
