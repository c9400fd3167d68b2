/**
 * Pure statistics helpers of the benchmark suite: percentiles, summaries, medians of rounds and
 * target checks. No I/O, no clock: same input, same output.
 *
 * @module
 */

import type { LoadStats, TargetCheck, TargetOp } from "./types.ts";

/**
 * The `p`-th percentile (0–100) of ascending `sorted` values, interpolating linearly between the
 * two closest ranks (NumPy's default method). `NaN` for an empty array.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2.5
 * percentile([1, 2, 3, 4], 100); // 4
 * ```
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/**
 * The median of `values` (any order). `NaN` for an empty array.
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Distribution summary of latency samples, in milliseconds. */
export interface SampleSummary {
  count: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
  min_ms: number;
  max_ms: number;
}

/**
 * Summarizes latency samples in milliseconds (any order; the input is not modified).
 *
 * @example
 * ```ts
 * summarize([0.2, 0.1, 0.3]).p50_ms; // 0.2
 * ```
 */
export function summarize(samples: ArrayLike<number>): SampleSummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  return {
    count: n,
    p50_ms: percentile(sorted, 50),
    p90_ms: percentile(sorted, 90),
    p99_ms: percentile(sorted, 99),
    mean_ms: n === 0 ? NaN : sum / n,
    min_ms: n === 0 ? NaN : sorted[0],
    max_ms: n === 0 ? NaN : sorted[n - 1],
  };
}

/**
 * Builds {@linkcode LoadStats} from per-request latencies (ms), an error count and the measured
 * wall time (seconds).
 *
 * @example
 * ```ts
 * loadStatsFromSamples([1, 1, 2], 0, 0.5).rps; // 6
 * ```
 */
export function loadStatsFromSamples(
  latenciesMs: ArrayLike<number>,
  errors: number,
  durationS: number,
): LoadStats {
  const s = summarize(latenciesMs);
  return {
    requests: s.count,
    errors,
    duration_s: durationS,
    rps: durationS > 0 ? s.count / durationS : 0,
    p50_ms: s.p50_ms,
    p90_ms: s.p90_ms,
    p99_ms: s.p99_ms,
    mean_ms: s.mean_ms,
    max_ms: s.max_ms,
  };
}

/**
 * Combines the rounds of one measurement: each figure is the median of that figure over the
 * rounds (so one noisy round cannot move the result); `requests`, `errors` and `duration_s` are
 * totals.
 *
 * @example
 * ```ts
 * const r = (p50: number) => ({
 *   requests: 10, errors: 0, duration_s: 1, rps: 10,
 *   p50_ms: p50, p90_ms: p50, p99_ms: p50, mean_ms: p50, max_ms: p50,
 * });
 * medianOfRounds([r(1), r(9), r(2)]).p50_ms; // 2
 * ```
 */
export function medianOfRounds(rounds: readonly LoadStats[]): LoadStats {
  const pick = (f: (s: LoadStats) => number) => median(rounds.map(f));
  const total = (f: (s: LoadStats) => number) => rounds.reduce((a, s) => a + f(s), 0);
  return {
    requests: total((s) => s.requests),
    errors: total((s) => s.errors),
    duration_s: total((s) => s.duration_s),
    rps: pick((s) => s.rps),
    p50_ms: pick((s) => s.p50_ms),
    p90_ms: pick((s) => s.p90_ms),
    p99_ms: pick((s) => s.p99_ms),
    mean_ms: pick((s) => s.mean_ms),
    max_ms: Math.max(...rounds.map((s) => s.max_ms)),
  };
}

/**
 * Compares two series measured in the same rounds: the median over rounds of `f(a[i], b[i])`.
 * Pairing by round cancels drift (background load, heat) that moves both sides of one round,
 * which a ratio of separate medians would not.
 *
 * @example
 * ```ts
 * pairedMedian([10, 20, 30], [5, 20, 10], (a, b) => a / b); // 2
 * ```
 */
export function pairedMedian<T>(
  a: readonly T[],
  b: readonly T[],
  f: (a: T, b: T) => number,
): number {
  const n = Math.min(a.length, b.length);
  return median(Array.from({ length: n }, (_, i) => f(a[i], b[i])));
}

/**
 * Checks `value <op> threshold`. A `NaN` value never passes.
 *
 * @example
 * ```ts
 * checkTarget("p50 overhead at c=1", 0.15, "ms", "<", 0.2).pass; // true
 * ```
 */
export function checkTarget(
  description: string,
  value: number,
  unit: string,
  op: TargetOp,
  threshold: number,
): TargetCheck {
  const pass = op === "<"
    ? value < threshold
    : op === "<="
    ? value <= threshold
    : op === ">"
    ? value > threshold
    : value >= threshold;
  return { description, value, unit, op, threshold, pass };
}

/**
 * Rounds to `digits` decimals, for JSON output (keeps `NaN` as `null`-able by the caller).
 *
 * @example
 * ```ts
 * round(0.123456, 3); // 0.123
 * ```
 */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Rounds every number of {@linkcode LoadStats} for the results file (latencies to µs, rates to
 * 0.1 req/s).
 *
 * @example
 * ```ts
 * roundStats({
 *   requests: 3, errors: 0, duration_s: 1.00049, rps: 2.99851,
 *   p50_ms: 0.1234, p90_ms: 0.2, p99_ms: 0.3, mean_ms: 0.15, max_ms: 0.4,
 * }).rps; // 3
 * ```
 */
export function roundStats(s: LoadStats): LoadStats {
  return {
    requests: s.requests,
    errors: s.errors,
    duration_s: round(s.duration_s, 3),
    rps: round(s.rps, 1),
    p50_ms: round(s.p50_ms),
    p90_ms: round(s.p90_ms),
    p99_ms: round(s.p99_ms),
    mean_ms: round(s.mean_ms),
    max_ms: round(s.max_ms),
  };
}
