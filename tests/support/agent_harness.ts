/**
 * A rig for driving a real agent CLI through the gateway: the mock provider running a scripted
 * shell tool loop, an in-process gateway (exact cache on, in memory) on 127.0.0.1, a refusing
 * egress proxy, and an isolated HOME and project directory for the client. Each `run` reports
 * what the client printed, what the gateway answered from which layer (its own stats), what
 * reached the provider and what the proxy refused.
 *
 * @module
 */

import { createGateway, type Gateway } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import {
  type MockAnswer,
  type MockUpstream,
  type ScriptedRequest,
  startMockUpstream,
} from "./mock_upstream.ts";
import { type ShellToolLoop, shellToolLoop, type ShellToolLoopOptions } from "./agent_script.ts";
import { type EgressProxy, startEgressProxy } from "./egress_proxy.ts";

/** Options of {@linkcode startAgentRig}. */
export interface AgentRigOptions {
  /** The gateway's provider (`llm_provider`), served by the mock. */
  provider: string;
  /** Path prefix of the provider URL on the mock. Default `/v1` (`/v1beta` for gemini). */
  providerPath?: string;
  /** More gateway config. */
  config?: Record<string, unknown>;
  /** Options of the tool loop script. */
  loop?: ShellToolLoopOptions;
  /** Replaces the tool loop as the mock's script (e.g. a loop in the first turn only). */
  script?: (req: ScriptedRequest) => MockAnswer | null;
}

/** A request as the gateway's stats saw it. */
export interface GatewaySeen {
  route: string;
  model: string;
  layer: string;
  status: number;
  stream: boolean;
  tool: string;
}

/** An HTTP exchange as the listening socket saw it (before the gateway). */
export interface WireSeen {
  method: string;
  path: string;
  status: number;
  /** `X-Isartor-Layer`, or `null`. */
  layer: string | null;
  /** Whether it asked for a WebSocket upgrade. */
  upgrade: boolean;
}

/** What one CLI run produced and caused. */
export interface AgentRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Requests the gateway counted during the run (its stats' `recent`). */
  gateway: GatewaySeen[];
  /** Counts per layer during the run. */
  layers: Record<string, number>;
  /** HTTP exchanges at the socket during the run. */
  wire: WireSeen[];
  /** Requests that reached the mock provider during the run. */
  upstream: number;
  /** `host:port` targets the proxy refused during the run. */
  refused: string[];
  /** Wall time of the run, in milliseconds (reported, never asserted). */
  ms: number;
}

/** Options of one run. */
export interface RunOptions {
  /** Environment added to the rig's. */
  env?: Record<string, string>;
  /** Working directory (default: the rig's project directory). */
  cwd?: string;
  /** Killed after this long (default 180 s). */
  timeoutMs?: number;
  /** Text written to stdin. */
  stdin?: string;
}

/** A running rig. */
export interface AgentRig extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, the gateway. */
  url: string;
  mock: MockUpstream;
  loop: ShellToolLoop;
  proxy: EgressProxy;
  gateway: Gateway;
  /** The client's HOME. */
  home: string;
  /** The client's project directory (a git repository). */
  work: string;
  /** The base environment every run gets (HOME, XDG dirs, proxies, PATH). */
  env: Record<string, string>;
  /** Runs `bin args` in the sandbox. */
  run(bin: string, args: string[], options?: RunOptions): Promise<AgentRun>;
  close(): Promise<void>;
}

interface StatsSnapshot {
  totals: { requests: number };
  layers: Record<string, { requests: number }>;
  recent: (GatewaySeen & { time: string })[];
}

/** Hosts the client reaches directly (never through the proxy). */
export const NO_PROXY = "127.0.0.1,localhost,::1";

/** The PATH a client gets: node's directory, then the system's. */
function clientPath(): string {
  const node = new Deno.Command("sh", { args: ["-c", "command -v node"], stderr: "null" })
    .outputSync();
  const dir = new TextDecoder().decode(node.stdout).trim().replace(/\/node$/, "");
  return [dir, "/usr/local/bin", "/usr/bin", "/bin"].filter((d) => d !== "").join(":");
}

/** Starts a rig. */
export async function startAgentRig(opts: AgentRigOptions): Promise<AgentRig> {
  const loop = shellToolLoop(opts.loop);
  const mock = await startMockUpstream({ script: opts.script ?? loop.script });
  const root = await Deno.makeTempDir({ prefix: "isartor-agent-" });
  const home = `${root}/home`;
  const work = `${root}/project`;
  await Deno.mkdir(home);
  await Deno.mkdir(work);
  await Deno.writeTextFile(`${work}/README.md`, "# scratch project for an agent CLI test\n");
  const git = await new Deno.Command("git", {
    args: ["init", "-q", "-b", "main"],
    cwd: work,
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (git !== null && !git.success) throw new Error("git init failed");

  const providerPath = opts.providerPath ?? (opts.provider === "gemini" ? "/v1beta" : "/v1");
  const config = parseConfig({
    host_port: "127.0.0.1:0",
    data_dir: `${root}/isartor`,
    llm_provider: opts.provider,
    external_llm_url: `${mock.url}${providerPath}`,
    external_llm_api_key: "sk-mock-provider",
    cache_mode: "exact",
    cache_backend: "memory",
    l3_max_retries: 0,
    l3_retry_base_ms: 1,
    l3_retry_max_ms: 5,
    ...opts.config,
  });
  const gateway = createGateway(config, { random: () => 1 });
  const wire: WireSeen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const res = await gateway.fetch(req);
    const u = new URL(req.url);
    wire.push({
      method: req.method,
      path: u.pathname + u.search,
      status: res.status,
      layer: res.headers.get("x-isartor-layer"),
      upgrade: req.headers.get("upgrade")?.toLowerCase() === "websocket",
    });
    return res;
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const proxy = await startEgressProxy([`127.0.0.1:${server.addr.port}`]);

  const env: Record<string, string> = {
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    XDG_DATA_HOME: `${home}/.local/share`,
    XDG_STATE_HOME: `${home}/.local/state`,
    XDG_CACHE_HOME: `${home}/.cache`,
    TMPDIR: `${root}/tmp`,
    PATH: clientPath(),
    LANG: "C.UTF-8",
    TERM: "dumb",
    NO_COLOR: "1",
    HTTPS_PROXY: proxy.url,
    HTTP_PROXY: proxy.url,
    ALL_PROXY: proxy.url,
    https_proxy: proxy.url,
    http_proxy: proxy.url,
    all_proxy: proxy.url,
    NO_PROXY,
    no_proxy: NO_PROXY,
    DO_NOT_TRACK: "1",
    NO_UPDATE_NOTIFIER: "1",
    npm_config_update_notifier: "false",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  await Deno.mkdir(env.TMPDIR);

  const stats = async (): Promise<StatsSnapshot> =>
    await (await fetch(`${url}/api/v1/stats`)).json() as StatsSnapshot;

  const close = async () => {
    await server.shutdown();
    await gateway.close();
    await proxy.close();
    await mock.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  return {
    url,
    mock,
    loop,
    proxy,
    gateway,
    home,
    work,
    env,
    async run(bin, args, options = {}) {
      const before = await stats();
      const upstreamBefore = mock.requests.length;
      const wireBefore = wire.length;
      const refusedBefore = proxy.refused.length;
      const start = performance.now();
      const child = new Deno.Command(bin, {
        args,
        cwd: options.cwd ?? work,
        clearEnv: true,
        env: { ...env, ...options.env },
        stdin: options.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
      }, options.timeoutMs ?? 180_000);
      if (options.stdin !== undefined) {
        const w = child.stdin.getWriter();
        await w.write(new TextEncoder().encode(options.stdin)).catch(() => {});
        await w.close().catch(() => {});
      }
      const out = await child.output();
      clearTimeout(timer);
      const ms = performance.now() - start;
      // Let the last request's stats land (recorded when the answer finishes streaming).
      await new Promise((r) => setTimeout(r, 100));
      const after = await stats();
      const n = after.totals.requests - before.totals.requests;
      const layers: Record<string, number> = {};
      for (const [k, v] of Object.entries(after.layers)) {
        const d = v.requests - (before.layers[k]?.requests ?? 0);
        if (d > 0) layers[k] = d;
      }
      const dec = new TextDecoder();
      return {
        code: out.code,
        stdout: dec.decode(out.stdout),
        stderr: dec.decode(out.stderr),
        gateway: n > 0
          ? after.recent.slice(-n).map(({ route, model, layer, status, stream, tool }) => ({
            route,
            model,
            layer,
            status,
            stream,
            tool,
          }))
          : [],
        layers,
        wire: wire.slice(wireBefore),
        upstream: mock.requests.length - upstreamBefore,
        refused: [...new Set(proxy.refused.slice(refusedBefore).map((r) => r.target))].sort(),
        ms,
      };
    },
    [Symbol.asyncDispose]: close,
    close,
  };
}

/** Claude Code's environment in a rig: the gateway as its base URL, no telemetry, no updater. */
export function claudeCodeEnv(rig: Pick<AgentRig, "url" | "home">): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: rig.url,
    ANTHROPIC_API_KEY: "sk-ant-client-key",
    CLAUDE_CONFIG_DIR: `${rig.home}/.claude`,
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_BUG_COMMAND: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
}

/** One line describing a run, for the test log. */
export function describeRun(label: string, r: AgentRun): string {
  const layers = Object.entries(r.layers).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
  return `${label}: exit ${r.code}, ${(r.ms / 1000).toFixed(1)} s, gateway ${layers}, ` +
    `upstream ${r.upstream}, refused [${r.refused.join(", ")}]`;
}

/** Whether the agent CLI tests are switched off (`ISARTOR_SKIP_AGENT_CLIS=1`), with the reason. */
export function agentClisSkipped(): string | null {
  return Deno.env.get("ISARTOR_SKIP_AGENT_CLIS") === "1"
    ? "ISARTOR_SKIP_AGENT_CLIS=1: real agent CLI tests skipped"
    : null;
}

/** Throws unless the run was answered by the gateway, every request from L1a, none upstream. */
export function assertAllFromL1a(r: AgentRun, what: string): void {
  const other = Object.keys(r.layers).filter((k) => k !== "l1a");
  if (r.gateway.length === 0 || other.length > 0 || r.upstream !== 0) {
    throw new Error(
      `${what}: expected every request from l1a, got layers ${JSON.stringify(r.layers)}, ` +
        `${r.upstream} upstream requests; gateway saw ${JSON.stringify(r.gateway)}`,
    );
  }
}

/** Throws with the run's output when `cond` is false. */
export function assertRun(cond: boolean, r: AgentRun, what: string): void {
  if (!cond) {
    throw new Error(
      `${what}\nexit ${r.code}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${
        r.stderr.slice(-3000)
      }` +
        `\ngateway: ${JSON.stringify(r.gateway)}\nwire: ${JSON.stringify(r.wire)}`,
    );
  }
}
