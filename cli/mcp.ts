/**
 * `isartor mcp`: the MCP server on stdio, for hosts that start it as a
 * subprocess (Claude Code, Claude Desktop, Cursor, Copilot CLI...). Its tools
 * call a running gateway's API, with the gateway key from the configuration
 * (the credentials file, isartor.toml or ISARTOR__GATEWAY_API_KEY), never
 * from the command line.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { GatewayApi } from "../src/mcp/gateway_api.ts";
import { createMcpServer } from "../src/mcp/server.ts";
import { serveStdio } from "../src/mcp/stdio.ts";
import { VERSION } from "../src/version.ts";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, UsageError } from "./io.ts";
import { gatewayUrl } from "./stats.ts";

export const usage = `isartor mcp [--gateway-url URL] [--tenant NAME]

Runs isartor's MCP server on stdin/stdout, for an MCP host to start as a
subprocess. Its tools call the running gateway:
  isartor_chat         answer a prompt from the caches (L1a exact, L1b semantic);
                       with allow_cloud: true, a miss goes on to the provider
  isartor_cache_store  store a prompt and its answer for your tenant
  isartor_stats        deflection, tokens and estimated cost saved

The gateway also serves MCP over Streamable HTTP at /mcp (same tools).

The gateway key comes from ISARTOR__GATEWAY_API_KEY, gateway_api_key in
isartor.toml or the credentials file; never from the command line.

Options:
  --gateway-url URL  the gateway to call (default: ISARTOR_GATEWAY_URL, else
                     the running gateway, else host_port)
  --tenant NAME      send NAME in the configured tenant_header (cache partition)

Examples:
  isartor mcp
  claude mcp add isartor -- isartor mcp
  claude mcp add isartor --transport http http://127.0.0.1:8080/mcp
  {"mcpServers": {"isartor": {"command": "isartor", "args": ["mcp"],
    "env": {"ISARTOR__GATEWAY_API_KEY": "..."}}}}   (an MCP host's config file)`;

/** Runs `isartor mcp`; returns when the host closes stdin. */
export async function runMcp(args: string[], io: CliIO): Promise<number> {
  if (args.some((a) => /^--(gateway-)?(api-)?key(=|$)/.test(a))) {
    throw new UsageError(
      "the gateway key is not taken from the command line (other users can read process arguments); fix: set ISARTOR__GATEWAY_API_KEY in the MCP host's env for this server, or gateway_api_key in isartor.toml",
    );
  }
  const { values } = parseArgs({
    args,
    options: {
      "gateway-url": { type: "string" },
      tenant: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  // Warnings go to stderr: stdout belongs to the protocol.
  const { config } = loadCliConfig({}, { warn: (line) => io.err(line) });
  const url = values["gateway-url"] ?? Deno.env.get("ISARTOR_GATEWAY_URL") ?? gatewayUrl(config);
  if (!/^https?:\/\/[^/]/.test(url)) {
    throw new UsageError(
      `--gateway-url: "${url}" is not an http(s) URL, e.g. http://127.0.0.1:8080`,
    );
  }
  const headers: Record<string, string> = { "user-agent": `isartor-mcp/${VERSION} (stdio)` };
  if (config.gateway_api_key) headers.authorization = `Bearer ${config.gateway_api_key}`;
  if (values.tenant !== undefined) {
    if (!config.tenant_header) {
      throw new UsageError(
        "--tenant needs tenant_header in the configuration (the header the gateway reads the tenant from)",
      );
    }
    headers[config.tenant_header.toLowerCase()] = values.tenant;
  }
  const api = new GatewayApi({ baseUrl: url, fetch: (r) => fetch(r), headers });
  await serveStdio(createMcpServer(api, VERSION));
  return EXIT.ok;
}
