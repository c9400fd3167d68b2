/**
 * The built-in load generator, used when `wrk` is not installed: `concurrency` workers, each a
 * loop of keep-alive `fetch` calls for a fixed duration, timing every request with
 * `performance.now()`.
 *
 * It runs in the benchmark's own process, which holds no server (they run in their own
 * subprocesses), but a JavaScript client tops out sooner than `wrk`: at high concurrency it can
 * be the bottleneck, which compresses throughput ratios. The report names the generator used.
 *
 * @module
 */

import { loadStatsFromSamples } from "./stats.ts";
import type { LoadGenerator, LoadOptions, LoadStats } from "./types.ts";

/**
 * Sends one request and reads the whole body. Resolves to whether the status was 2xx.
 *
 * @example
 * ```ts ignore
 * await requestOnce("http://127.0.0.1:8080/v1/models", { method: "GET" });
 * ```
 */
export async function requestOnce(
  url: string,
  init: RequestInit & { client?: Deno.HttpClient },
): Promise<boolean> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.ok;
}

/**
 * Runs `concurrency` sequential request loops for `durationS` seconds and reports their latency
 * distribution and throughput. Requests still in flight at the deadline are awaited and counted,
 * and the wall time runs until the last one ends.
 *
 * @example
 * ```ts ignore
 * const stats = await runFetchLoad({
 *   url: "http://127.0.0.1:8080/v1/chat/completions",
 *   body: JSON.stringify({ model: "m", messages: [] }),
 *   headers: { "content-type": "application/json" },
 *   concurrency: 8,
 *   durationS: 3,
 * });
 * console.log(stats.p50_ms, stats.rps);
 * ```
 */
export async function runFetchLoad(opts: LoadOptions): Promise<LoadStats> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: opts.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const headers = new Headers(opts.headers);
  const start = performance.now();
  const deadline = start + opts.durationS * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await requestOnce(opts.url, {
          method: "POST",
          headers,
          body: opts.body,
          client,
        });
      } catch {
        ok = false;
      }
      latencies.push(performance.now() - t0);
      if (!ok) errors++;
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    client.close();
  }
  const elapsedS = (performance.now() - start) / 1000;
  return loadStatsFromSamples(latencies, errors, elapsedS);
}

/** The built-in generator as a {@linkcode LoadGenerator}. */
export const fetchLoadGenerator: LoadGenerator = {
  name: "deno-fetch",
  version: `Deno ${Deno.version.deno} fetch, one process`,
  run: runFetchLoad,
};
