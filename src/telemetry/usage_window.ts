/**
 * Usage over a time window, read back from the request log: tokens and cost
 * by provider and model, for `isartor stats --usage`.
 *
 * @module
 */

import { costUsd, type PriceInfo } from "./prices.ts";
import type { RequestLogLine } from "./request_log.ts";

/** One provider and model's usage in the window. */
export interface UsageRow {
  provider: string;
  model: string;
  /** Requests answered by the provider (L3). */
  requests: number;
  /** Requests for this model answered by a cache, never reaching the provider. */
  answered_locally: number;
  input_tokens: number;
  output_tokens: number;
  /** USD at the price in effect; null when the provider has no price. */
  cost_usd: number | null;
}

/** The usage report of a window. */
export interface UsageReport {
  window: string;
  since: string;
  /** The oldest line the log still holds; later than `since` when the log does not reach back. */
  log_starts: string | null;
  rows: UsageRow[];
  totals: { requests: number; input_tokens: number; output_tokens: number; cost_usd: number };
}

const WINDOW_UNITS: Record<string, number> = { h: 3_600_000, d: 86_400_000 };

/**
 * A window like `24h`, `7d`, `30d` in milliseconds, or null when it is not one.
 *
 * @example
 * ```ts
 * windowMs("7d"); // 604800000
 * ```
 */
export function windowMs(window: string): number | null {
  const m = /^(\d+)([hd])$/.exec(window.trim());
  if (!m || Number(m[1]) <= 0) return null;
  return Number(m[1]) * WINDOW_UNITS[m[2]];
}

/** Sums request-log lines since `sinceMs`, by provider and model. */
export function usageReport(
  lines: Iterable<RequestLogLine>,
  window: string,
  sinceMs: number,
  prices: Readonly<Record<string, PriceInfo>>,
): UsageReport {
  const rows = new Map<string, UsageRow>();
  let oldest: number | null = null;
  for (const line of lines) {
    const t = Date.parse(line.time);
    if (!Number.isFinite(t)) continue;
    if (oldest === null || t < oldest) oldest = t;
    if (t < sinceMs || line.status >= 400) continue;
    const key = `${line.provider}\u0000${line.model}`;
    let row = rows.get(key);
    if (!row) {
      rows.set(
        key,
        row = {
          provider: line.provider,
          model: line.model,
          requests: 0,
          answered_locally: 0,
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
        },
      );
    }
    if (line.layer !== "l3") {
      row.answered_locally++;
      continue;
    }
    row.requests++;
    row.input_tokens += line.input_tokens ?? 0;
    row.output_tokens += line.output_tokens ?? 0;
  }
  const totals = { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
  for (const row of rows.values()) {
    const price = prices[row.provider];
    row.cost_usd = price ? costUsd(price, row.input_tokens, row.output_tokens) : null;
    totals.requests += row.requests;
    totals.input_tokens += row.input_tokens;
    totals.output_tokens += row.output_tokens;
    totals.cost_usd += row.cost_usd ?? 0;
  }
  return {
    window,
    since: new Date(sinceMs).toISOString(),
    log_starts: oldest === null ? null : new Date(oldest).toISOString(),
    rows: [...rows.values()].sort((a, b) =>
      (b.cost_usd ?? 0) - (a.cost_usd ?? 0) || b.requests - a.requests
    ),
    totals,
  };
}
