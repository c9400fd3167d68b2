/**
 * `isartor __health`: the container's health check. It asks the gateway's
 * `/healthz` on the port it actually bound (from the pid file `__serve`
 * writes), else on the configured `host_port`, so a changed port
 * (`ISARTOR__HOST_PORT`, isartor.toml, `--port`) never breaks the check.
 *
 * @module
 */

import { splitHostPort } from "../src/server.ts";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT } from "./io.ts";
import { gatewayFiles, isHealthy, readPidFile } from "./process.ts";

/** The address to probe: a wildcard bind is reached on loopback. */
export function probeUrl(hostPort: string, pidUrl?: string): string {
  const { hostname, port } = pidUrl
    ? { hostname: new URL(pidUrl).hostname.replace(/^\[|\]$/g, ""), port: new URL(pidUrl).port }
    : splitHostPort(hostPort);
  const host = hostname === "0.0.0.0" || hostname === ""
    ? "127.0.0.1"
    : hostname === "::"
    ? "[::1]"
    : hostname.includes(":")
    ? `[${hostname}]`
    : hostname;
  return `http://${host}:${port}`;
}

/** Runs the health check: exit 0 when `/healthz` answers 2xx within 4 s. */
export async function runHealthcheck(io: CliIO): Promise<number> {
  const { config } = loadCliConfig({}, { warn: () => {} });
  const info = readPidFile(gatewayFiles(config.data_dir).pid);
  const url = probeUrl(config.host_port, info && info !== "broken" ? info.url : undefined);
  if (await isHealthy(url, 4000)) return EXIT.ok;
  io.err(`isartor: no healthy gateway at ${url}/healthz`);
  return EXIT.failure;
}
