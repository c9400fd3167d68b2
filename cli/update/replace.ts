/**
 * Swapping the binary: the new one takes the running one's place by rename
 * (atomic on one filesystem), and the old one stays beside it as
 * `<name>.previous` for `isartor update --rollback`.
 *
 * POSIX may rename over a running executable, so the old one is hard-linked
 * aside first and the path never goes missing. Windows may not replace a
 * running .exe but may rename it: the old one is moved aside, then the new
 * one moved in, and the move is undone if that fails.
 *
 * @module
 */

/** The paths around one binary. */
export function binaryPaths(exePath: string): { previous: string; swap: string } {
  return { previous: `${exePath}.previous`, swap: `${exePath}.swap` };
}

async function remove(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Puts a copy (or a hard link) of `from` at `to`, replacing `to` atomically. */
async function keepCopy(from: string, to: string): Promise<void> {
  const tmp = `${to}.tmp`;
  await remove(tmp);
  try {
    await Deno.link(from, tmp);
  } catch {
    await Deno.copyFile(from, tmp);
  }
  await Deno.rename(tmp, to);
}

/**
 * Installs `newFile` (already verified, beside the binary) as `exePath`,
 * keeping the current binary as `<exePath>.previous`.
 */
export async function installBinary(
  exePath: string,
  newFile: string,
  windows = Deno.build.os === "windows",
): Promise<void> {
  const { previous } = binaryPaths(exePath);
  if (!windows) {
    await Deno.chmod(newFile, 0o755);
    await keepCopy(exePath, previous);
    await Deno.rename(newFile, exePath);
    return;
  }
  await remove(previous);
  await moveAsideThenIn(exePath, previous, newFile);
}

/** Windows: moves `path` to `aside`, then `incoming` to `path`; undoes the first move on failure. */
async function moveAsideThenIn(path: string, aside: string, incoming: string): Promise<void> {
  await Deno.rename(path, aside);
  try {
    await Deno.rename(incoming, path);
  } catch (e) {
    await Deno.rename(aside, path);
    throw e;
  }
}

/**
 * Swaps the binary with `<exePath>.previous` (a second rollback swaps back).
 * Throws when there is nothing to roll back to.
 */
export async function rollbackBinary(
  exePath: string,
  windows = Deno.build.os === "windows",
): Promise<void> {
  const { previous, swap } = binaryPaths(exePath);
  if (!await exists(previous)) {
    throw new Error(`nothing to roll back to: ${previous} does not exist`);
  }
  await remove(swap);
  if (!windows) {
    await keepCopy(exePath, swap);
    await Deno.rename(previous, exePath);
    await Deno.rename(swap, previous);
    return;
  }
  await moveAsideThenIn(exePath, swap, previous);
  await Deno.rename(swap, previous);
}
