/**
 * The parts of the official MCP SDK (`@modelcontextprotocol/sdk`) isartor
 * uses, in one place.
 *
 * Why this file: the SDK's package exports map `./*` to types at
 * `./dist/esm/*.d.ts`, so `server/mcp.js` resolves to `mcp.js.d.ts`, which
 * does not exist, and Deno silently types every import as `any`. Each
 * `@ts-types` below names the subpath without `.js`, whose types resolve to
 * the real declaration file (`mcp.d.ts`); the code still loads from `.js`.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export { McpServer, StdioServerTransport, WebStandardStreamableHTTPServerTransport };
export type { CallToolResult };
