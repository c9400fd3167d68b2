/**
 * Runs the `isartor` CLI as a subprocess for the end-to-end tests, with a
 * clean environment (a temporary HOME, only the variables a test gives).
 *
 * @module
 */

/** The repository root. */
export const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** What a finished command printed. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let denoDir: string | undefined;

/** The Deno cache directory, so a temporary HOME does not re-download npm packages. */
export async function denoCacheDir(): Promise<string> {
  if (denoDir) return denoDir;
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return denoDir = fromEnv;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return denoDir = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
}

/** The environment of a CLI run: PATH, the Deno cache, NO_COLOR and `env`. */
export async function cliEnv(env: Record<string, string>): Promise<Record<string, string>> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: await denoCacheDir(),
    DENO_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
    ...env,
  };
}

/** The command line of the CLI. */
export function cliArgs(args: string[]): string[] {
  return [
    "run",
    "--config",
    `${REPO}/deno.json`,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-net",
    "--allow-sys",
    `${REPO}/cli/main.ts`,
    ...args,
  ];
}

/** Runs `isartor <args>` to completion (killed after `timeoutMs`). */
export async function isartor(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: cliArgs(args),
    env: await cliEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Waits until `cond()` holds; throws after `timeoutMs`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Whether a process is alive; a zombie (exited, not yet reaped) is not. Asks
 * `cat /proc/<pid>/stat` on Linux (tests may not read /proc themselves), else `kill -0`.
 */
export function alive(pid: number): boolean {
  if (Deno.build.os === "linux") {
    const out = new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stderr: "null" })
      .outputSync();
    if (!out.success) return false;
    const stat = new TextDecoder().decode(out.stdout);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  }
  return new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" }).outputSync()
    .success;
}
