/**
 * MCP over stdio: the SDK's stdio transport on this process's stdin and
 * stdout, for hosts that start `isartor mcp` as a subprocess.
 *
 * stdout carries only protocol messages; anything for a human goes to stderr.
 *
 * @module
 */

import process from "node:process";
import { type McpServer, StdioServerTransport } from "./sdk.ts";

/**
 * Serves `server` on stdin/stdout until the host closes stdin (or the
 * transport fails); resolves then, with the server closed.
 */
export async function serveStdio(server: McpServer): Promise<void> {
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  const ended = () => void server.close();
  process.stdin.once("end", ended);
  process.stdin.once("close", ended);
  await server.connect(transport);
  await closed;
  process.stdin.off("end", ended);
  process.stdin.off("close", ended);
}
