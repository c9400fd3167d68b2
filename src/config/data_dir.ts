/**
 * The data directory's modes: it holds prompts and answers (cache.kv*), the
 * log and the stats, so it is the user's alone: the directory 0700, its files
 * 0600. Tightened at every start, with a warning, because an older version or
 * a default umask may have created them readable by everyone.
 *
 * @module
 */

/** The files of a data directory that hold request data. */
const PRIVATE_FILE =
  /^(cache\.kv.*|isartor\.log.*|requests\.jsonl.*|stats\.json.*|isartor\.pid.*)$/;

/**
 * Creates `dir` (0700) or tightens it and its data files; returns one warning
 * per change. No-op on Windows (no POSIX modes).
 */
export function secureDataDir(dir: string): string[] {
  if (Deno.build.os === "windows") return [];
  const warnings: string[] = [];
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tighten = (path: string, mode: number, what: string) => {
    const info = Deno.statSync(path);
    const current = (info.mode ?? 0) & 0o777;
    if ((current & ~mode) === 0) return;
    Deno.chmodSync(path, mode);
    warnings.push(
      `${what} ${path} was mode ${current.toString(8)} (readable by others); tightened to ${
        mode.toString(8)
      }`,
    );
  };
  tighten(dir, 0o700, "data directory");
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile && PRIVATE_FILE.test(entry.name)) {
      tighten(`${dir.replace(/[\\/]+$/, "")}/${entry.name}`, 0o600, "data file");
    }
  }
  return warnings;
}

/**
 * Creates a file that is about to be opened by a library with the default
 * umask (SQLite for Deno KV) empty and 0600, so it and the files SQLite
 * derives from it (`-wal`, `-shm` take the database's mode) are private.
 */
export async function createPrivateFile(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    await Deno.writeFile(path, new Uint8Array(), { createNew: true, mode: 0o600 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}
