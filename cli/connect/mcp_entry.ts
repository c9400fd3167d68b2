/**
 * The isartor MCP server as the MCP hosts register it: `isartor mcp
 * --gateway-url URL` over stdio. The gateway key is never in its arguments:
 * the server reads it from the credentials file or the environment.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The command that starts `isartor mcp` from this installation. */
export function mcpLaunch(gatewayUrl: string, mainModule: string = import.meta.url): {
  command: string;
  args: string[];
} {
  const exec = Deno.execPath();
  const base = exec.slice(Math.max(exec.lastIndexOf("/"), exec.lastIndexOf("\\")) + 1);
  if (!/^deno(\.exe)?$/.test(base)) {
    // A compiled isartor binary.
    return { command: exec, args: ["mcp", "--gateway-url", gatewayUrl] };
  }
  const main = new URL("../main.ts", mainModule);
  const config = new URL("../../deno.json", mainModule);
  const host = new URL(gatewayUrl).host;
  const local = main.protocol === "file:";
  return {
    command: exec,
    args: [
      "run",
      ...(local ? ["--config", fileURLToPath(config)] : []),
      `--allow-net=${host}`,
      "--allow-read",
      "--allow-env",
      local ? fileURLToPath(main) : main.href,
      "mcp",
      "--gateway-url",
      gatewayUrl,
    ],
  };
}
