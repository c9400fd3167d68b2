/**
 * Runs the `isartor` CLI as a user would: a real subprocess, with a fresh
 * temporary HOME and working directory, no `ISARTOR__*` variables and
 * `NO_COLOR=1`.
 *
 * @module
 */

import { cliArgs, type CliRun, denoCacheDir } from "./cli_runner.ts";

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
  run(args: string[], options?: RunOptions): Promise<CliRun>;
  /** Removes the sandbox. */
  cleanup(): Promise<void>;
}

/** The environment of a run: nothing of the test process's isartor settings. */
export async function baseEnv(home: string): Promise<Record<string, string>> {
  const env: Record<string, string> = { HOME: home, USERPROFILE: home, NO_COLOR: "1" };
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (k === "PATH" || k === "SYSTEMROOT" || k.startsWith("NPM_CONFIG_")) env[k] = v;
    if (k.startsWith("DENO_") && k !== "DENO_DIR") env[k] = v;
  }
  const dir = await denoCacheDir().catch(() => null);
  if (dir) env.DENO_DIR = dir;
  return env;
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
