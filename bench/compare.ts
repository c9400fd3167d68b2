/**
 * Fair side-by-side load measurements: several contenders (direct, through a proxy, …) measured
 * at several concurrencies, interleaved in rounds whose order alternates, each figure the median
 * over rounds. The CPU time each server process spends per request is recorded too.
 *
 * @module
 */

import type { ServerProcess } from "./servers/spawn.ts";
import { runSpread } from "./spread.ts";
import { median, medianOfRounds, pairedMedian, round, roundStats } from "./stats.ts";
import type { LoadStats, ScenarioContext } from "./types.ts";

/** One way of reaching the same answer. */
export interface Contender {
  /** Label, e.g. `direct` or `gateway`. */
  name: string;
  /** Full URL the load goes to. */
  url: string;
  /**
   * Replicas serving the same answers (`url` among them): when set, the load is spread over
   * them (see {@linkcode runSpread}) instead of going to `url` alone.
   */
  spread?: readonly string[];
  /** Processes serving this contender's requests, whose CPU time is attributed to it. */
  processes: ServerProcess[];
}

/** How to compare. */
export interface CompareOptions {
  /** Request body (POST). */
  body: string;
  /** Request headers. */
  headers: Record<string, string>;
  /** Concurrency levels, e.g. `[1, 64]`. */
  concurrencies: number[];
  /** Number of interleaved rounds (figures are medians over rounds). */
  rounds: number;
  /** Seconds per measurement. */
  durationS: number;
  /** Seconds of untimed load per contender before the first round (at the highest concurrency). */
  warmupS: number;
}

/** One contender at one concurrency. */
export interface ContenderResult {
  /** Median over rounds (see {@linkcode medianOfRounds}). */
  stats: LoadStats;
  /** Median CPU time per request in µs, by process name (`null` when not measurable). */
  cpu_us_per_request: Record<string, number | null>;
  /** Every round, in order. */
  rounds: LoadStats[];
}

/** Results by concurrency key (`c1`, `c64`, …), then by contender name. */
export type Comparison = Record<string, Record<string, ContenderResult>>;

/**
 * The key of a concurrency level in a {@linkcode Comparison}.
 *
 * @example
 * ```ts
 * concurrencyKey(64); // "c64"
 * ```
 */
export function concurrencyKey(c: number): string {
  return `c${c}`;
}

async function cpuSnapshot(processes: ServerProcess[]): Promise<(number | null)[]> {
  return await Promise.all(processes.map((p) => p.cpuMs()));
}

/**
 * Warms every contender up, then runs `rounds` rounds; in each round every concurrency level is
 * measured for every contender, in an order that reverses every other round so that drift (heat,
 * background work) does not favour one contender.
 *
 * @example
 * ```ts ignore
 * const cmp = await compareInterleaved(ctx, [
 *   { name: "direct", url: `${mock.url}/v1/chat/completions`, processes: [mock] },
 *   { name: "gateway", url: `${gw.url}/v1/chat/completions`, processes: [mock, gw] },
 * ], { body, headers, concurrencies: [1, 64], rounds: 3, durationS: 3, warmupS: 2 });
 * cmp.c64.gateway.stats.rps / cmp.c64.direct.stats.rps;
 * ```
 */
export async function compareInterleaved(
  ctx: ScenarioContext,
  contenders: readonly Contender[],
  opts: CompareOptions,
): Promise<Comparison> {
  const maxC = Math.max(...opts.concurrencies);
  for (const c of contenders) {
    ctx.log(`  warm-up ${c.name} (c=${maxC}, ${opts.warmupS} s)`);
    await runSpread(ctx.load, c.spread ?? [c.url], {
      url: c.url,
      body: opts.body,
      headers: opts.headers,
      concurrency: maxC,
      durationS: opts.warmupS,
    });
  }

  type Raw = { stats: LoadStats; cpu: Record<string, number | null> };
  const raw = new Map<string, Raw[]>();
  for (let r = 0; r < opts.rounds; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
    for (const concurrency of opts.concurrencies) {
      for (const c of order) {
        const before = await cpuSnapshot(c.processes);
        const stats = await runSpread(ctx.load, c.spread ?? [c.url], {
          url: c.url,
          body: opts.body,
          headers: opts.headers,
          concurrency,
          durationS: opts.durationS,
        });
        const after = await cpuSnapshot(c.processes);
        const cpu: Record<string, number | null> = {};
        c.processes.forEach((p, i) => {
          const a = after[i];
          const b = before[i];
          cpu[p.name] = a === null || b === null || stats.requests === 0
            ? null
            : (a - b) * 1000 / stats.requests;
        });
        const key = `${concurrencyKey(concurrency)}/${c.name}`;
        raw.set(key, [...(raw.get(key) ?? []), { stats, cpu }]);
        ctx.log(
          `  round ${r + 1}/${opts.rounds} c=${concurrency} ${c.name}: p50 ${
            stats.p50_ms.toFixed(3)
          } ms, p99 ${stats.p99_ms.toFixed(3)} ms, ${stats.rps.toFixed(0)} req/s` +
            (stats.errors > 0 ? `, ${stats.errors} errors` : ""),
        );
      }
    }
  }

  const out: Comparison = {};
  for (const concurrency of opts.concurrencies) {
    const byName: Record<string, ContenderResult> = {};
    for (const c of contenders) {
      const runs = raw.get(`${concurrencyKey(concurrency)}/${c.name}`) ?? [];
      const cpu: Record<string, number | null> = {};
      for (const p of c.processes) {
        const values = runs.map((x) => x.cpu[p.name]).filter((v): v is number => v !== null);
        cpu[p.name] = values.length > 0 ? round(median(values), 1) : null;
      }
      byName[c.name] = {
        stats: roundStats(medianOfRounds(runs.map((x) => x.stats))),
        cpu_us_per_request: cpu,
        rounds: runs.map((x) => roundStats(x.stats)),
      };
    }
    out[concurrencyKey(concurrency)] = byName;
  }
  return out;
}

/**
 * A figure comparing contender `via` with `base` at one concurrency, paired by round (see
 * {@linkcode pairedMedian}): e.g. `(v, b) => v.p50_ms - b.p50_ms` or `(v, b) => v.rps / b.rps`.
 *
 * @example
 * ```ts ignore
 * const overhead = pairedFigure(cmp, 1, "gateway", "direct", (v, b) => v.p50_ms - b.p50_ms);
 * ```
 */
export function pairedFigure(
  cmp: Comparison,
  concurrency: number,
  via: string,
  base: string,
  f: (v: LoadStats, b: LoadStats) => number,
): number {
  const byName = cmp[concurrencyKey(concurrency)];
  return pairedMedian(byName[via].rounds, byName[base].rounds, f);
}
