/**
 * File-system checks shared by the tests.
 *
 * @module
 */

/**
 * Whether anything (file, folder, link target) is at `path`.
 *
 * @example
 * ```ts
 * await exists("/tmp"); // true
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
