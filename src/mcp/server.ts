/**
 * The isartor MCP server: the official SDK's `McpServer` with isartor's tools,
 * ready to connect to a transport (stdio.ts, http.ts).
 *
 * @module
 */

import { McpServer } from "./sdk.ts";
import type { GatewayApi } from "./gateway_api.ts";
import { registerTools } from "./tools.ts";

const INSTRUCTIONS =
  "isartor is a local LLM gateway with a cache. For a plain question, call isartor_chat first: " +
  "a hit is the answer. On a miss, answer yourself and then store the final answer with " +
  "isartor_cache_store. isartor_stats reports how much the cache saved.";

/**
 * A new MCP server whose tools call the gateway through `api`. One server
 * serves one session (one client connection).
 *
 * @example
 * ```ts
 * const api = new GatewayApi({ baseUrl: "http://127.0.0.1:8080", fetch, headers: {} });
 * await createMcpServer(api, "0.1.0").connect(new StdioServerTransport());
 * ```
 */
export function createMcpServer(api: GatewayApi, version: string): McpServer {
  const server = new McpServer(
    { name: "isartor", title: "isartor", version },
    { instructions: INSTRUCTIONS },
  );
  registerTools(server, api);
  return server;
}
