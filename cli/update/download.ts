/**
 * Downloads for `isartor update`: a fetch that follows redirects itself and
 * refuses any hop outside the update allow-list, and a resumable download to
 * a `.part` file beside the binary (same filesystem, so the final rename is
 * atomic).
 *
 * @module
 */

/** A fetch restricted to the update hosts. */
export type GuardedFetch = (url: string, init?: RequestInit) => Promise<Response>;

const MAX_REDIRECTS = 5;
/** A download that receives nothing for this long is abandoned (kept for resume). */
const IDLE_TIMEOUT_MS = 30_000;

function hostOf(u: URL): string {
  return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
}

/**
 * A fetch that only talks to `hosts` (`host:port`), following up to five
 * redirects by hand so that each target is checked before it is contacted.
 */
export function guardedFetch(hosts: string[], base: typeof fetch = fetch): GuardedFetch {
  return async (url, init = {}) => {
    let target = new URL(url);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!hosts.includes(hostOf(target))) {
        throw new Error(
          `refusing to contact ${target.host}: not a release host (${hosts.join(", ")})`,
        );
      }
      const res = await base(target, { ...init, redirect: "manual" });
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        target = new URL(location, target);
        continue;
      }
      return res;
    }
    throw new Error(`too many redirects from ${url}`);
  };
}

/** Reads a whole small response (SHA256SUMS, its signature) as bytes. */
export async function fetchBytes(fetcher: GuardedFetch, url: string): Promise<Uint8Array> {
  const res = await fetcher(url);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`download of ${url} answered HTTP ${res.status}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Downloads `url` to `path`, resuming from what an earlier, interrupted run
 * left there (`Range`); a server that ignores the range restarts the file.
 * An interrupted transfer leaves the partial file for the next run and throws.
 * Returns whether it resumed.
 */
export async function downloadTo(
  fetcher: GuardedFetch,
  url: string,
  path: string,
  onProgress?: (bytes: number, total: number | null) => void,
): Promise<{ resumed: boolean; bytes: number }> {
  let offset = await sizeOf(path);
  const abort = new AbortController();
  let idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT_MS);
  try {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const res = await fetcher(url, { headers, signal: abort.signal });
    if (res.status === 416 && offset > 0) {
      // The partial file is already whole (or longer): let the checksum decide.
      await res.body?.cancel();
      return { resumed: true, bytes: offset };
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`download of ${url} answered HTTP ${res.status}`);
    }
    const resumed = res.status === 206 &&
      (res.headers.get("content-range") ?? "").startsWith(`bytes ${offset}-`);
    if (!resumed) offset = 0;
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? offset + length : null;
    const file = await Deno.open(path, {
      write: true,
      create: true,
      truncate: !resumed,
      append: resumed,
      mode: 0o600,
    });
    let bytes = offset;
    try {
      for await (const chunk of res.body) {
        clearTimeout(idle);
        idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT_MS);
        let written = 0;
        while (written < chunk.length) written += await file.write(chunk.subarray(written));
        bytes += chunk.length;
        onProgress?.(bytes, total);
      }
    } catch (e) {
      throw new Error(
        `the download was interrupted after ${bytes} bytes (${(e as Error).message}); ` +
          "run `isartor update` again to resume",
      );
    } finally {
      file.close();
    }
    if (total !== null && bytes !== total) {
      throw new Error(
        `the download was interrupted after ${bytes} of ${total} bytes; run \`isartor update\` again to resume`,
      );
    }
    return { resumed, bytes };
  } finally {
    clearTimeout(idle);
  }
}
