/**
 * The last day of traffic, minute by minute: requests per layer, errors,
 * tokens and estimated cost saved. Kept in memory (a ring of 1,440 minutes)
 * for the dashboard's charts; `stats.json` keeps the totals across restarts.
 *
 * @module
 */

import { costUsd, type PriceInfo } from "./prices.ts";
import { isDeflected, type RequestRecord } from "./stats.ts";

/** One minute of traffic. */
export interface MinuteBucket {
  /** The minute's start, epoch milliseconds. */
  t: number;
  /** Requests by the layer that answered (`l1a`, `l1b`, `l3`, `gateway`...). */
  layers: Record<string, number>;
  errors: number;
  saved_tokens: number;
  saved_cost_usd: number;
  /** Sum of latencies, for the mean. */
  latency_ms_total: number;
}

const MINUTE = 60_000;
/** How many minutes are kept. */
export const TIMELINE_MINUTES = 1440;

/** A ring of minute buckets. */
export class Timeline {
  readonly #ring = new Map<number, MinuteBucket>();
  readonly #prices: Readonly<Record<string, PriceInfo>>;
  readonly #now: () => number;

  constructor(prices: Readonly<Record<string, PriceInfo>>, now: () => number = Date.now) {
    this.#prices = prices;
    this.#now = now;
  }

  /** Counts one finished request into its minute. */
  record(r: RequestRecord): void {
    const t = Math.floor(r.time / MINUTE) * MINUTE;
    let b = this.#ring.get(t);
    if (!b) {
      b = { t, layers: {}, errors: 0, saved_tokens: 0, saved_cost_usd: 0, latency_ms_total: 0 };
      this.#ring.set(t, b);
      this.#evict(t);
    }
    b.layers[r.layer] = (b.layers[r.layer] ?? 0) + 1;
    if (r.status >= 400) b.errors++;
    b.latency_ms_total += r.latencyMs;
    if (isDeflected(r)) {
      const input = r.inputTokens ?? 0;
      const output = r.outputTokens ?? 0;
      b.saved_tokens += input + output;
      const price = this.#prices[r.provider];
      if (price) b.saved_cost_usd += costUsd(price, input, output, r.cachedTokens);
    }
  }

  #evict(newest: number): void {
    const oldest = newest - (TIMELINE_MINUTES - 1) * MINUTE;
    if (this.#ring.size <= TIMELINE_MINUTES) return;
    for (const t of this.#ring.keys()) if (t < oldest) this.#ring.delete(t);
  }

  /**
   * The last `minutes` minutes, oldest first, one bucket per minute (empty
   * minutes included, so a chart's x axis is even).
   */
  window(minutes: number): MinuteBucket[] {
    const n = Math.max(1, Math.min(TIMELINE_MINUTES, Math.floor(minutes)));
    const end = Math.floor(this.#now() / MINUTE) * MINUTE;
    const out: MinuteBucket[] = [];
    for (let t = end - (n - 1) * MINUTE; t <= end; t += MINUTE) {
      out.push(
        this.#ring.get(t) ??
          { t, layers: {}, errors: 0, saved_tokens: 0, saved_cost_usd: 0, latency_ms_total: 0 },
      );
    }
    return out;
  }
}
