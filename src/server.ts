/**
 * Serving a gateway over HTTP, with a graceful shutdown.
 *
 * @module
 */

import type { Gateway } from "./app.ts";

/** A running server. */
export interface RunningServer {
  /** The address actually bound (port 0 resolves to a real port). */
  hostname: string;
  port: number;
  /** `http://host:port` */
  url: string;
  /** Stops accepting, lets in-flight requests finish, then releases the gateway. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** Splits `host:port` (IPv6 in brackets). */
export function splitHostPort(hostPort: string): { hostname: string; port: number } {
  const i = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, "");
  return { hostname: host, port: Number(hostPort.slice(i + 1)) };
}

/** Whether an address only accepts connections from this machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Why the configured bind address is refused, or null: never an open proxy to paid providers. */
export function bindProblem(config: { host_port: string; gateway_api_key: string }): string | null {
  const { hostname, port } = splitHostPort(config.host_port);
  if (isLoopback(hostname) || config.gateway_api_key) return null;
  return `refusing to bind ${hostname}:${port} without a gateway key: anyone on the network could spend your provider credits; fix: set gateway_api_key (or ISARTOR__GATEWAY_API_KEY), or bind 127.0.0.1`;
}

/**
 * Starts serving. Refuses a non-loopback bind without a gateway key: an open
 * proxy to paid providers must never be one flag away.
 */
export function serveGateway(
  gateway: Gateway,
  bind: { hostname: string; port: number } = splitHostPort(gateway.config.host_port),
): Promise<RunningServer> {
  const problem = bindProblem({ ...gateway.config, host_port: `${bind.hostname}:${bind.port}` });
  if (problem) throw new Error(problem);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: bind.hostname,
      port: bind.port,
      onListen: () => {},
      onError: (err) => {
        console.error("[isartor] unhandled error:", err);
        return new Response("internal error", { status: 500 });
      },
    }, gateway.fetch);
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      return Promise.reject(
        new Error(
          `${bind.hostname}:${bind.port} is already in use (another isartor, or another program); fix: run \`isartor stop\`, or pick another port with --port`,
        ),
      );
    }
    return Promise.reject(e);
  }
  const addr = server.addr;
  // A wildcard bind is reached locally through loopback: print an address a client can use.
  const reach = addr.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : addr.hostname === "::"
    ? "::1"
    : addr.hostname;
  const host = reach.includes(":") ? `[${reach}]` : reach;
  return Promise.resolve({
    hostname: addr.hostname,
    port: addr.port,
    url: `http://${host}:${addr.port}`,
    async shutdown() {
      // Open MCP streams never finish on their own: end them first.
      await gateway.closeSessions?.();
      await server.shutdown();
      await gateway.close();
    },
    finished: server.finished,
  });
}
