/**
 * `isartor connect cursor`: Cursor reads global MCP servers from
 * `~/.cursor/mcp.json`; its OpenAI base URL lives in the app's settings
 * database, not in a file, so `connect` registers the isartor MCP server and
 * says what to set in the app.
 *
 * @module
 */

import { type ConnectContext, type ConnectTarget, join, mcpServerEntry } from "./target.ts";

/** Cursor's global MCP file. */
export function cursorMcpPath(ctx: ConnectContext): string {
  return join(ctx.home, ".cursor", "mcp.json");
}

/** Cursor. */
export const cursor: ConnectTarget = {
  name: "cursor",
  label: "Cursor",
  summary: "Cursor: the isartor MCP server in ~/.cursor/mcp.json",
  options: [],
  probe: "mcp",
  files: (ctx) => [{
    path: cursorMcpPath(ctx),
    format: "jsonc",
    label: "Cursor MCP servers",
    settings: [{ path: ["mcpServers", "isartor"], value: mcpServerEntry(ctx) }],
  }],
  notes: (ctx) => [
    "Cursor keeps its OpenAI base URL in the app, not in a file: Settings > Models > " +
    `Override OpenAI Base URL = ${ctx.gatewayUrl}/v1 (key: ${
      ctx.gatewayKey ? "your gateway key" : "any value"
    })`,
    "reload the window so Cursor starts the isartor MCP server",
  ],
};
