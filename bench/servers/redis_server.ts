/**
 * A real redis-server for benchmarks and tests: on 127.0.0.1, a free port, a temporary
 * directory, no persistence. Stopped (and restarted on the same port) by whoever owns it.
 * Lives under bench/ so that `deno task bench` does not depend on tests/;
 * tests/support/redis_server.ts re-exports it beside the tests' skip rule.
 *
 * @module
 */

/** A running (or stopped) Redis. */
export interface RedisServer {
  port: number;
  url: string;
  /** Process id of the running server, or null while stopped. */
  pid(): number | null;
  /** Stops the server (SIGKILL: as abrupt as a lost node). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connected, but answering nothing, like a stalled node. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
  /** Runs `redis-cli` against it. */
  cli(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

const PROGRAMS = {
  server: ["/usr/bin/redis-server", "/usr/local/bin/redis-server"],
  cli: ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"],
};

function installed(candidates: string[]): boolean {
  return candidates.some((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** What is missing to start a Redis here (`[]` when redis-server and redis-cli are installed). */
export function missingRedisPrograms(): string[] {
  return (["server", "cli"] as const).filter((p) => !installed(PROGRAMS[p])).map((p) =>
    `redis-${p}`
  );
}

/** How to install what {@linkcode missingRedisPrograms} names (Debian). */
export const REDIS_INSTALL_HINT = "apt-get install redis-server redis-tools";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, up: boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      if (up) return;
    } catch {
      if (!up) return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis on port ${port} did not ${up ? "start" : "stop"}`);
}

/** Starts redis-server; extra arguments go on its command line (e.g. cluster mode). */
export async function startRedis(extra: string[] = [], port = freePort()): Promise<RedisServer> {
  const dir = await Deno.makeTempDir({ prefix: "isartor-redis-" });
  let child: Deno.ChildProcess | null = null;
  const start = async () => {
    child = new Deno.Command("redis-server", {
      args: [
        "--bind",
        "127.0.0.1",
        "--port",
        String(port),
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        ...extra,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(port, true);
  };
  const stop = async () => {
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    child = null;
    await waitForPort(port, false);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => (child as Deno.ChildProcess | null)?.pid ?? null,
    stop,
    start,
    pause: () => (child as Deno.ChildProcess | null)?.kill("SIGSTOP"),
    resume: () => (child as Deno.ChildProcess | null)?.kill("SIGCONT"),
    async cli(...args: string[]) {
      const out = await new Deno.Command("redis-cli", {
        args: ["-h", "127.0.0.1", "-p", String(port), ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return new TextDecoder().decode(out.stdout).trim();
    },
    async close() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A Redis Cluster of three masters on loopback (no replicas), made with `redis-cli --cluster create`. */
export interface RedisCluster {
  nodes: RedisServer[];
  /** The seed URLs, as `redis_cluster_nodes` takes them. */
  urls: string[];
  close(): Promise<void>;
}

/** Starts three cluster-enabled redis-servers and joins them into one cluster. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const close = async () => {
    for (const n of nodes) await n.close();
  };
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startRedis([
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          "2000",
        ]),
      );
    }
    const out = await new Deno.Command("redis-cli", {
      args: [
        "--cluster",
        "create",
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all(nodes.map((n) => n.cli("CLUSTER", "INFO")));
      if (states.every((s) => s.includes("cluster_state:ok"))) {
        return { nodes, urls: nodes.map((n) => n.url), close };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the Redis Cluster did not reach cluster_state:ok");
  } catch (e) {
    await close();
    throw e;
  }
}
