/**
 * The last day of traffic, minute by minute: requests per layer, errors,
 * tokens and estimated cost saved. Kept in memory (a ring of 1,440 minutes)
 * for the dashboard's charts; `stats.json` keeps the totals across restarts.
 *
 * @module
 */

import type { PriceInfo } from "./prices.ts";
import { isDeflected, type RequestRecord, savedCostUsd } from "./stats.ts";

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

/** Tenants whose own minutes are kept (the least recent is dropped): bounds the memory. */
const MAX_TENANTS = 64;

/** Minute buckets by their start. */
type Ring = Map<number, MinuteBucket>;

function emptyMinute(t: number): MinuteBucket {
  return { t, layers: {}, errors: 0, saved_tokens: 0, saved_cost_usd: 0, latency_ms_total: 0 };
}

/**
 * A ring of minute buckets for the whole gateway, and one per tenant (so a
 * tenant's dashboard shows its own traffic, as its stats do).
 */
export class Timeline {
  readonly #ring: Ring = new Map();
  readonly #tenants = new Map<string, Ring>();
  readonly #prices: Readonly<Record<string, PriceInfo>>;
  readonly #now: () => number;

  constructor(prices: Readonly<Record<string, PriceInfo>>, now: () => number = Date.now) {
    this.#prices = prices;
    this.#now = now;
  }

  /** Counts one finished request into its minute (the gateway's, and its tenant's). */
  record(r: RequestRecord): void {
    this.#count(this.#ring, r);
    if (r.tenant === undefined) return;
    let ring = this.#tenants.get(r.tenant);
    if (ring) this.#tenants.delete(r.tenant);
    ring ??= new Map();
    this.#tenants.set(r.tenant, ring);
    if (this.#tenants.size > MAX_TENANTS) {
      this.#tenants.delete(this.#tenants.keys().next().value!);
    }
    this.#count(ring, r);
  }

  #count(ring: Ring, r: RequestRecord): void {
    const t = Math.floor(r.time / MINUTE) * MINUTE;
    let b = ring.get(t);
    if (!b) {
      ring.set(t, b = emptyMinute(t));
      evict(ring, t);
    }
    b.layers[r.layer] = (b.layers[r.layer] ?? 0) + 1;
    if (r.status >= 400) b.errors++;
    b.latency_ms_total += r.latencyMs;
    if (isDeflected(r)) {
      b.saved_tokens += (r.inputTokens ?? 0) + (r.outputTokens ?? 0);
      b.saved_cost_usd += savedCostUsd(r, this.#prices);
    }
  }

  /**
   * The last `minutes` minutes, oldest first, one bucket per minute (empty
   * minutes included, so a chart's x axis is even): the whole gateway's, or
   * with a tenant, only that tenant's requests.
   */
  window(minutes: number, tenant?: string): MinuteBucket[] {
    const ring = tenant === undefined ? this.#ring : this.#tenants.get(tenant);
    const n = Math.max(1, Math.min(TIMELINE_MINUTES, Math.floor(minutes)));
    const end = Math.floor(this.#now() / MINUTE) * MINUTE;
    const out: MinuteBucket[] = [];
    for (let t = end - (n - 1) * MINUTE; t <= end; t += MINUTE) {
      out.push(ring?.get(t) ?? emptyMinute(t));
    }
    return out;
  }
}

/** Drops the minutes older than a day before `newest`. */
function evict(ring: Ring, newest: number): void {
  const oldest = newest - (TIMELINE_MINUTES - 1) * MINUTE;
  if (ring.size <= TIMELINE_MINUTES) return;
  for (const t of ring.keys()) if (t < oldest) ring.delete(t);
}
