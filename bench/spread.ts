/**
 * Load spread over several replicas that serve the same answers (two gateway processes behind
 * what would be a load balancer), without a balancer in between: the load generator itself
 * splits the connections.
 *
 * @module
 */

import type { LoadGenerator, LoadOptions, LoadStats } from "./types.ts";

/**
 * Puts `opts` on every URL of `urls`. With at least one connection per URL, the connections are
 * split evenly and the runs go at once (throughput is their sum); below that (c=1 on two
 * replicas) each URL gets the full concurrency in turn, so every replica is measured in every
 * round. See {@linkcode mergeLoadStats} for how the figures are combined.
 *
 * @example
 * ```ts ignore
 * const both = await runSpread(ctx.load, [a.url, b.url], { url: a.url, body, headers, concurrency: 64, durationS: 1 });
 * ```
 */
export async function runSpread(
  load: LoadGenerator,
  urls: readonly string[],
  opts: LoadOptions,
): Promise<LoadStats> {
  if (urls.length <= 1) return await load.run({ ...opts, url: urls[0] ?? opts.url });
  if (opts.concurrency < urls.length) {
    const parts: LoadStats[] = [];
    for (const url of urls) parts.push(await load.run({ ...opts, url }));
    return mergeLoadStats(parts, "sequential");
  }
  const share = (i: number) =>
    Math.floor(opts.concurrency / urls.length) + (i < opts.concurrency % urls.length ? 1 : 0);
  const parts = await Promise.all(
    urls.map((url, i) => load.run({ ...opts, url, concurrency: share(i) })),
  );
  return mergeLoadStats(parts, "concurrent");
}

/**
 * Combines runs against several replicas into one figure. Counts add up; throughput is the sum
 * of the rates (`concurrent`) or all requests over all the time (`sequential`). Latency
 * percentiles and the mean are request-weighted means of the parts' (the generators report
 * summaries, not samples: an approximation, exact when the replicas behave alike); the max is
 * the largest.
 *
 * @example
 * ```ts
 * const s = (rps: number, p50: number) => ({
 *   requests: rps, errors: 0, duration_s: 1, rps,
 *   p50_ms: p50, p90_ms: p50, p99_ms: p50, mean_ms: p50, max_ms: p50,
 * });
 * mergeLoadStats([s(100, 1), s(300, 2)], "concurrent").rps; // 400
 * mergeLoadStats([s(100, 1), s(300, 2)], "concurrent").p50_ms; // 1.75
 * ```
 */
export function mergeLoadStats(
  parts: readonly LoadStats[],
  mode: "concurrent" | "sequential",
): LoadStats {
  const sum = (f: (s: LoadStats) => number) => parts.reduce((a, s) => a + f(s), 0);
  const requests = sum((s) => s.requests);
  const weighted = (f: (s: LoadStats) => number) =>
    requests > 0 ? sum((s) => f(s) * s.requests) / requests : NaN;
  const duration = mode === "concurrent"
    ? Math.max(...parts.map((s) => s.duration_s))
    : sum((s) => s.duration_s);
  return {
    requests,
    errors: sum((s) => s.errors),
    duration_s: duration,
    rps: mode === "concurrent" ? sum((s) => s.rps) : duration > 0 ? requests / duration : 0,
    p50_ms: weighted((s) => s.p50_ms),
    p90_ms: weighted((s) => s.p90_ms),
    p99_ms: weighted((s) => s.p99_ms),
    mean_ms: weighted((s) => s.mean_ms),
    max_ms: Math.max(...parts.map((s) => s.max_ms)),
  };
}
