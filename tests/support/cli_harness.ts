/**
 * Runs the `isartor` CLI as a user would: a real subprocess, with a fresh
 * temporary HOME and working directory, no `ISARTOR__*` variables and
 * `NO_COLOR=1`.
 *
 * @module
 */

/** The repository root, from this file's location. */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one run. */
export interface RunOptions {
  /** Text written to stdin (then closed); empty by default. */
  stdin?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A sandboxed user: own HOME and working directory. */
export interface CliSandbox {
  home: string;
  cwd: string;
  /** `<home>/.isartor`, the default data_dir. */
  dataDir: string;
  /** Runs `isartor <args>`. */
  run(args: string[], options?: RunOptions): Promise<CliResult>;
  /** Removes the sandbox. */
  cleanup(): Promise<void>;
}

let denoDir: Promise<string | null> | null = null;

/** The Deno cache of the test process, so subprocesses with another HOME reuse it. */
function cacheDir(): Promise<string | null> {
  denoDir ??= (async () => {
    const fromEnv = Deno.env.get("DENO_DIR");
    if (fromEnv) return fromEnv;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stdout: "piped",
      stderr: "null",
    }).output();
    try {
      return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir ?? null;
    } catch {
      return null;
    }
  })();
  return denoDir;
}

/** The environment of a run: nothing of the test process's isartor settings. */
export async function baseEnv(home: string): Promise<Record<string, string>> {
  const env: Record<string, string> = { HOME: home, USERPROFILE: home, NO_COLOR: "1" };
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (k === "PATH" || k === "SYSTEMROOT" || k.startsWith("NPM_CONFIG_")) env[k] = v;
    if (k.startsWith("DENO_") && k !== "DENO_DIR") env[k] = v;
  }
  const dir = await cacheDir();
  if (dir) env.DENO_DIR = dir;
  return env;
}

/** The `deno` arguments that run `isartor <args>` from source, as a user's `deno task isartor` does. */
export function cliArgs(args: string[]): string[] {
  return [
    "run",
    "--config",
    `${REPO_ROOT}/deno.json`,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-net",
    "--allow-sys",
    `${REPO_ROOT}/cli/main.ts`,
    ...args,
  ];
}

/**
 * Creates a sandbox.
 *
 * @example
 * ```ts
 * const user = await cliSandbox();
 * const r = await user.run(["--help"]);
 * r.code; // 0
 * await user.cleanup();
 * ```
 */
export async function cliSandbox(): Promise<CliSandbox> {
  const root = await Deno.makeTempDir({ prefix: "isartor-cli-" });
  const home = `${root}/home`;
  const cwd = `${root}/work`;
  await Deno.mkdir(home);
  await Deno.mkdir(cwd);
  return {
    home,
    cwd,
    dataDir: `${home}/.isartor`,
    async run(args, options = {}) {
      const child = new Deno.Command(Deno.execPath(), {
        args: cliArgs(args),
        cwd,
        clearEnv: true,
        env: { ...await baseEnv(home), ...options.env },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      try {
        if (options.stdin) await writer.write(new TextEncoder().encode(options.stdin));
        await writer.close();
      } catch { /* the command exited without reading stdin */ }
      const out = await child.output();
      const decoder = new TextDecoder();
      return {
        code: out.code,
        stdout: decoder.decode(out.stdout),
        stderr: decoder.decode(out.stderr),
      };
    },
    async cleanup() {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}
