/**
 * Finding a system program the tests use (Chromium, promtool, prometheus),
 * and skipping the tests that need it when it is absent: with a reason
 * outside CI, and as a failure under CI (`.ci/run` installs them).
 *
 * @module
 */

/** The first of `candidates` that is a file (`$envVar` instead, when set), or null. */
export function findProgram(candidates: string[], envVar?: string): string | null {
  const configured = envVar ? Deno.env.get(envVar) : undefined;
  for (const path of configured ? [configured] : candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

/**
 * Whether the tests that need `what` are skipped: false when it is installed;
 * under CI (CI set) a missing program throws, elsewhere it warns and skips.
 */
export function skipWithout(path: string | null, what: string, install: string): boolean {
  if (path) return false;
  if (Deno.env.get("CI")) {
    throw new Error(`${what} is missing under CI: .ci/run must install it (${install})`);
  }
  console.warn(`${what} tests skipped: not installed (${install})`);
  return true;
}
