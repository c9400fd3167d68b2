/**
 * `isartor up`: starts the gateway as a child process with explicit,
 * narrow Deno permissions computed from the config.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Config } from "../src/config/schema.ts";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, UsageError } from "./io.ts";
import { gatewayPermissionFlags } from "./permissions.ts";

export const usage = `isartor up [--port P] [--host H]

Starts the gateway in the foreground (Ctrl-C stops it gracefully).

Options:
  --port P   port to listen on (default from host_port, 8080)
  --host H   address to bind (default from host_port, 127.0.0.1);
             any non-loopback address requires gateway_api_key

Examples:
  isartor up
  isartor up --port 9090`;

/** How to start the gateway process: the command and its arguments. */
export function serveCommand(config: Config): string[] {
  const exec = Deno.execPath();
  const base = exec.split(/[\\/]/).pop() ?? "";
  // A compiled binary carries its own permissions: it runs itself.
  if (!/^deno(\.exe)?$/.test(base)) return [exec, "__serve"];
  const main = Deno.mainModule;
  const path = main.startsWith("file:") ? new URL(main).pathname : main;
  const configFlag = path.endsWith(".ts")
    ? ["--config", new URL("../deno.json", main).pathname]
    : ["--no-config"];
  return [exec, "run", ...configFlag, ...gatewayPermissionFlags(config), path, "__serve"];
}

/** Runs `isartor up`. */
export async function runUp(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: "string" }, host: { type: "string" }, help: { type: "boolean" } },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  const { config } = loadCliConfig();
  if (values.port || values.host) {
    const i = config.host_port.lastIndexOf(":");
    const host = values.host ?? config.host_port.slice(0, i);
    const port = values.port ?? config.host_port.slice(i + 1);
    if (!/^\d{1,5}$/.test(port)) throw new UsageError(`--port must be a number, got "${port}"`);
    config.host_port = `${
      host.includes(":") && !host.startsWith("[") ? `[${host}]` : host
    }:${port}`;
  }
  await Deno.mkdir(config.data_dir, { recursive: true, mode: 0o700 });
  const [cmd, ...cmdArgs] = serveCommand(config);
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ config })));
  await writer.close();
  const forward = (sig: Deno.Signal) => () => {
    try {
      child.kill(sig);
    } catch { /* already gone */ }
  };
  const onTerm = forward("SIGTERM");
  Deno.addSignalListener("SIGTERM", onTerm);
  // SIGINT reaches the whole process group from a terminal; swallow it here so the child can drain.
  const onInt = () => {};
  Deno.addSignalListener("SIGINT", onInt);
  const status = await child.status;
  Deno.removeSignalListener("SIGTERM", onTerm);
  Deno.removeSignalListener("SIGINT", onInt);
  return status.success ? EXIT.ok : EXIT.failure;
}
