/**
 * Prometheus's `promtool` (Debian package `prometheus`) for the tests.
 * `.ci/run` installs it; elsewhere a test that needs it is skipped with a
 * reason (and fails under CI, where it must be there).
 *
 * @module
 */

import { findProgram, skipWithout } from "./system_tool.ts";

/** The promtool binary, or null when none is installed. */
export function promtoolPath(): string | null {
  return findProgram(["/usr/bin/promtool", "/usr/local/bin/promtool"], "ISARTOR_TEST_PROMTOOL");
}

/** Whether promtool tests are skipped here (no promtool, not CI). */
export function skipPromtool(): boolean {
  return skipWithout(promtoolPath(), "promtool", "apt-get install prometheus");
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
