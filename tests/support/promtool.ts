/**
 * Prometheus's `promtool` (Debian package `prometheus`) for the tests.
 * `.ci/run` installs it; elsewhere a test that needs it is skipped with a
 * reason (and fails under CI, where it must be there).
 *
 * @module
 */

/** Where promtool is looked for. */
const CANDIDATES = ["/usr/bin/promtool", "/usr/local/bin/promtool"];

/** The promtool binary, or null when none is installed. */
export function promtoolPath(): string | null {
  const configured = Deno.env.get("ISARTOR_TEST_PROMTOOL");
  for (const path of configured ? [configured] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

/** Whether promtool tests are skipped here (no promtool, not CI). */
export function skipPromtool(): boolean {
  if (promtoolPath()) return false;
  if (Deno.env.get("CI")) {
    throw new Error("promtool is missing under CI: .ci/run must install Debian's prometheus");
  }
  console.warn("promtool checks skipped: no promtool (apt-get install prometheus)");
  return true;
}

/** Runs promtool with `args`, `input` on stdin; its exit code and output. */
export async function promtool(
  args: string[],
  input = "",
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(promtoolPath()!, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, output: text.decode(stdout) + text.decode(stderr) };
}
