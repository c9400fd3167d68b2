/**
 * Starting benchmark servers in their own Deno subprocesses, so that they never share an event
 * loop with the load generator or with each other.
 *
 * A server script prints one JSON line `{"url": "http://127.0.0.1:PORT"}` on stdout once it
 * listens (see {@linkcode announce}). Every process started here is tracked until stopped, so
 * {@linkcode stopAllServers} can clean up on Ctrl-C.
 *
 * @module
 */

/** A running server subprocess. */
export interface ServerProcess {
  /** Label used in messages, e.g. `gateway`. */
  readonly name: string;
  /** Base URL the server announced. */
  readonly url: string;
  /** Process id. */
  readonly pid: number;
  /** User + system CPU time used so far in ms (Linux `/proc`), or `null` elsewhere. */
  cpuMs(): Promise<number | null>;
  /** The last few KB the server wrote to stderr (for error messages). */
  stderrTail(): string;
  /** Stops the process (SIGTERM, then SIGKILL after 2 s). Safe to call twice. */
  stop(): Promise<void>;
}

/** How to start a server script. */
export interface SpawnOptions {
  /** Label used in messages. */
  name: string;
  /** Absolute path of the repository's `deno.json`. */
  configPath: string;
  /** Absolute path of the script. */
  script: string;
  /** Arguments after the script. */
  args?: string[];
  /** Permission flags, e.g. `["--allow-net=127.0.0.1"]`. */
  permissions: string[];
  /** Other `deno run` flags, e.g. `["--v8-flags=--max-old-space-size=512"]`. */
  denoFlags?: string[];
  /** How long to wait for the announcement (default 30 s). */
  startTimeoutMs?: number;
}

/** What a server script prints once it listens. */
export interface Announcement {
  url: string;
}

/**
 * Prints the announcement line a server script must print once it listens.
 *
 * @example
 * ```ts ignore
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
 * announce({ url: `http://127.0.0.1:${server.addr.port}` });
 * ```
 */
export function announce(a: Announcement): void {
  console.log(JSON.stringify(a));
}

const live = new Set<ServerProcess>();
let clockTicks: number | null = null;

async function ticksPerSecond(): Promise<number> {
  if (clockTicks !== null) return clockTicks;
  clockTicks = 100;
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    if (out.success && n > 0) clockTicks = n;
  } catch {
    // keep the Linux default
  }
  return clockTicks;
}

/**
 * CPU time (user + system, all threads) of a process in ms, from `/proc/<pid>/stat`; `null`
 * where there is no `/proc`. Read with `cat` because Deno refuses `/proc/<pid>` paths to
 * anything short of `--allow-all`; called only between measurements.
 */
export async function processCpuMs(pid: number): Promise<number | null> {
  if (Deno.build.os !== "linux") return null;
  try {
    const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped" })
      .output();
    if (!out.success) return null;
    const ticks = parseProcStatCpuTicks(new TextDecoder().decode(out.stdout));
    return Number.isFinite(ticks) ? ticks * 1000 / await ticksPerSecond() : null;
  } catch {
    return null;
  }
}

/**
 * User + system clock ticks from the text of `/proc/<pid>/stat` (fields 14 and 15; the command
 * name in field 2 may hold spaces, so fields are counted after its closing parenthesis).
 *
 * @example
 * ```ts
 * parseProcStatCpuTicks("42 (deno x) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0"); // 175
 * ```
 */
export function parseProcStatCpuTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(rest[11]) + Number(rest[12]);
}

/** Keeps the last `limit` characters written to a stream. */
function tail(stream: ReadableStream<Uint8Array>, limit: number): () => string {
  let text = "";
  (async () => {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        text = (text + dec.decode(chunk, { stream: true })).slice(-limit);
      }
    } catch {
      // the process went away
    }
  })();
  return () => text;
}

/**
 * Reads stdout until the announcement line, then keeps draining (so the pipe never fills).
 * Rejects if the process exits first.
 */
function readAnnouncement(stream: ReadableStream<Uint8Array>): Promise<Announcement> {
  return new Promise((resolve, reject) => {
    (async () => {
      const dec = new TextDecoder();
      let buf = "";
      let done = false;
      try {
        for await (const chunk of stream) {
          if (done) continue;
          buf += dec.decode(chunk, { stream: true });
          let nl: number;
          while (!done && (nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line.startsWith("{")) continue;
            try {
              const v = JSON.parse(line) as Partial<Announcement>;
              if (typeof v.url === "string") {
                done = true;
                resolve({ url: v.url });
              }
            } catch {
              // not our line
            }
          }
        }
      } catch {
        // the process went away
      }
      if (!done) reject(new Error("the server exited before announcing its URL"));
    })();
  });
}

/**
 * Starts a server script with `deno run` in its own process and waits for its announcement.
 *
 * @example
 * ```ts ignore
 * const mock = await spawnServer({
 *   name: "mock",
 *   configPath: `${repo}/deno.json`,
 *   script: `${repo}/bench/servers/mock_server.ts`,
 *   permissions: ["--allow-net=127.0.0.1"],
 * });
 * try {
 *   await fetch(`${mock.url}/v1/models`);
 * } finally {
 *   await mock.stop();
 * }
 * ```
 */
export async function spawnServer(opts: SpawnOptions): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--config",
      opts.configPath,
      ...(opts.denoFlags ?? []),
      ...opts.permissions,
      opts.script,
      ...(opts.args ?? []),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrTail = tail(child.stderr, 8192);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      live.delete(server);
      if (exited) return;
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = await Promise.race([
        status.then(() => false),
        new Promise<boolean>((r) => timer = setTimeout(() => r(true), 2000)),
      ]);
      clearTimeout(timer);
      if (killed) {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
        await status;
      }
    })();
    return stopping;
  };
  const server: ServerProcess = {
    name: opts.name,
    url: "",
    pid: child.pid,
    cpuMs: () => processCpuMs(child.pid),
    stderrTail,
    stop,
  };
  live.add(server);

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const announced = await Promise.race([
      readAnnouncement(child.stdout),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no announcement within ${opts.startTimeoutMs ?? 30000} ms`)),
          opts.startTimeoutMs ?? 30000,
        );
      }),
    ]);
    return { ...server, url: announced.url };
  } catch (e) {
    await stop();
    throw new Error(
      `${opts.name} server failed to start: ${(e as Error).message}\n${stderrTail()}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

const others = new Set<() => Promise<void>>();

/**
 * Tracks a process not started by {@linkcode spawnServer} (a redis-server) until the returned
 * function is called, so {@linkcode stopAllServers} stops it too on Ctrl-C.
 *
 * @example
 * ```ts ignore
 * const redis = await startRedis();
 * const untrack = trackStop(() => redis.close());
 * try { ... } finally { untrack(); await redis.close(); }
 * ```
 */
export function trackStop(stop: () => Promise<void>): () => void {
  others.add(stop);
  return () => others.delete(stop);
}

/** Stops every server started by {@linkcode spawnServer} (or tracked) and not yet stopped. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()));
  await Promise.all([...others].map((stop) => stop()));
  others.clear();
}
