/**
 * A gateway as its own process, started the way a user starts a replica:
 * `isartor up` (the real CLI, which spawns the gateway with its narrow
 * permission flags) on a given or free loopback port, configured by
 * `ISARTOR__*` variables. Stopped with SIGTERM (a graceful drain), by
 * `await using` or {@linkcode GatewayProcess.stop}.
 *
 * @module
 */

import { alive, cliArgs, cliEnv, freePort } from "./cli_runner.ts";

/** A running `isartor up`. */
export interface GatewayProcess extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The replica's data directory (temporary, removed on stop). */
  dataDir: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM to `isartor up` (forwarded to the gateway, which drains), then waits for both. */
  stop(): Promise<void>;
}

/** Where a replica runs. */
export interface GatewayProcessOptions {
  /** The port (a restart passes the old one); a free one by default. */
  port?: number;
}

/** How long a start may take on a loaded CI box (two `deno run`s). */
const START_TIMEOUT_MS = 60_000;

/** `ISARTOR__KEY` variables for a config object, as a user's environment would hold them. */
export function configEnv(config: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    env[`ISARTOR__${k.toUpperCase()}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return env;
}

/** Drains a stream into a growing text (so the pipe never fills). */
function collect(stream: ReadableStream<Uint8Array>, into: { text: string }): Promise<void> {
  return (async () => {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) into.text += dec.decode(chunk, { stream: true });
    } catch { /* the process went away */ }
  })();
}

/** The gateway's own pid, from the pid file `isartor __serve` writes. */
function gatewayPid(dataDir: string): number | null {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dataDir}/isartor.pid`)).pid ?? null;
  } catch {
    return null;
  }
}

/**
 * Starts `isartor up --port <port>` with `config` as `ISARTOR__*` variables
 * (over test defaults: loopback, fast retries) and waits until `/healthz`
 * answers 200.
 *
 * @example
 * ```ts ignore
 * await using a = await startGatewayProcess({ cache_backend: "redis", redis_url });
 * await fetch(`${a.url}/healthz`);
 * ```
 */
export async function startGatewayProcess(
  config: Record<string, unknown>,
  options: GatewayProcessOptions = {},
): Promise<GatewayProcess> {
  const port = options.port ?? freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "isartor-replica-" });
  const home = await Deno.makeTempDir({ prefix: "isartor-replica-home-" });
  const env = await cliEnv({
    HOME: home,
    ...configEnv({
      host_port: `127.0.0.1:${port}`,
      data_dir: dataDir,
      l3_retry_base_ms: 1,
      l3_retry_max_ms: 20,
      ...config,
    }),
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(["up", "--port", String(port)]),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { text: "" };
  const drained = Promise.all([collect(child.stdout, out), collect(child.stderr, out)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const pid = gatewayPid(dataDir);
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      // A gateway that does not drain in time: no process may outlive the test.
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      if (pid && alive(pid)) Deno.kill(pid, "SIGKILL");
    }, 15_000);
    await status;
    clearTimeout(timer);
    await drained;
    // `up` returns once its child exits; a gateway still alive here was orphaned.
    if (pid && alive(pid)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    await Deno.remove(home, { recursive: true }).catch(() => {});
  };

  const end = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`isartor up exited during start:\n${out.text}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > end) {
      await stop();
      throw new Error(`isartor up did not answer on ${url}/healthz:\n${out.text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    dataDir,
    output: () => out.text,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
