/**
 * Small file-system helpers the CLI's writers share (the credentials file,
 * `connect`'s edits, backups and undo): a file is written beside its place
 * and renamed into it, so a reader never sees half a file, with its mode set
 * before the rename, so a secret is never readable by others even briefly.
 *
 * @module
 */

/** The directory part of a path (`/` and `\` both separate). */
export function dirOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

/** `chmod`, where the platform has modes (not on Windows). */
export function chmodQuiet(path: string, mode: number): void {
  try {
    Deno.chmodSync(path, mode);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotSupported)) throw e;
  }
}

/**
 * Writes a file atomically: text written (or `from` copied byte for byte)
 * beside it with `mode` (null keeps the default), then renamed into place.
 *
 * @example
 * ```ts
 * writeAtomic("/home/me/.isartor/credentials", "{}\n", 0o600);
 * ```
 */
export function writeAtomic(
  path: string,
  content: string | { copyOf: string },
  mode: number | null,
): void {
  const tmp = `${path}.isartor-tmp-${Deno.pid}`;
  try {
    if (typeof content === "string") {
      Deno.writeTextFileSync(tmp, content, mode === null ? {} : { mode });
    } else {
      Deno.copyFileSync(content.copyOf, tmp);
    }
    if (mode !== null) chmodQuiet(tmp, mode);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never written */ }
    throw e;
  }
}
