/**
 * `isartor connect claude-desktop`: Claude Desktop reads MCP servers from
 * `claude_desktop_config.json` in `~/Library/Application Support/Claude/`
 * (macOS), `%APPDATA%\Claude\` (Windows) or `$XDG_CONFIG_HOME/Claude/` (Linux
 * builds). It has no base-URL setting a file can change, so `connect`
 * registers the isartor MCP server (`mcpServers.isartor`).
 *
 * @module
 */

import {
  appConfigDir,
  type ConnectContext,
  type ConnectTarget,
  join,
  mcpServerEntry,
} from "./target.ts";

/** Claude Desktop's config file for this OS. */
export function claudeDesktopConfigPath(ctx: ConnectContext): string {
  return join(appConfigDir(ctx), "Claude", "claude_desktop_config.json");
}

/** Claude Desktop. */
export const claudeDesktop: ConnectTarget = {
  name: "claude-desktop",
  label: "Claude Desktop",
  summary: "Claude Desktop: the isartor MCP server in claude_desktop_config.json (per OS)",
  options: [],
  probe: "mcp",
  files: (ctx) => [{
    path: claudeDesktopConfigPath(ctx),
    format: "jsonc",
    label: "Claude Desktop config",
    settings: [{ path: ["mcpServers", "isartor"], value: mcpServerEntry(ctx) }],
  }],
  notes: () => [
    "quit and reopen Claude Desktop; the isartor tools appear under the tools menu",
    "Claude Desktop's own chat has no base-URL setting: it reaches the gateway through the MCP tools",
  ],
};
