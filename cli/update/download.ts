/**
 * Requests of `isartor update`: a fetch that follows redirects itself and
 * refuses any hop outside the update allow-list. (The binary itself is fetched
 * by the model downloader's resumable, verified `downloadFile`.)
 *
 * @module
 */

/** A fetch restricted to the update hosts. */
export type GuardedFetch = (url: string, init?: RequestInit) => Promise<Response>;

const MAX_REDIRECTS = 5;

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
