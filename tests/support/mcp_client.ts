/**
 * The official MCP SDK's client side, for the tests (see src/mcp/sdk.ts for
 * why each import names its types).
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

export {
  Client,
  LATEST_PROTOCOL_VERSION,
  StdioClientTransport,
  StreamableHTTPClientTransport,
  StreamableHTTPError,
};

/** A client connected over Streamable HTTP to `url`, sending `headers` on every request. */
export async function httpClient(
  url: string,
  headers: Record<string, string> = {},
  fetchImpl?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>,
): Promise<{ client: InstanceType<typeof Client>; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  const client = new Client({ name: "isartor-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

/** The text of a tool result's first content block. */
export function resultText(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? "").join("");
}
