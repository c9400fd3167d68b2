/**
 * The admin API the dashboard reads, beside `GET /api/v1/stats`:
 * `GET /api/v1/timeline` (traffic per minute), `GET /api/v1/providers` (the
 * chain, key pools and cooldowns, call outcomes) and `GET /api/v1/config`
 * (effective values, where each came from, secrets masked). Authenticated like
 * every route.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { Target } from "../providers/targets.ts";
import type { Counter } from "../telemetry/metrics.ts";
import type { Timeline } from "../telemetry/timeline.ts";

/**
 * A secret shown so its owner can tell which it is, and nobody can use it:
 * the last four characters of a long value, nothing of a short one.
 *
 * @example
 * ```ts
 * maskSecret("sk-live-0123456789abcd"); // "••••abcd"
 * ```
 */
export function maskSecret(value: string): string {
  if (!value) return "";
  return value.length >= 16 ? `••••${value.slice(-4)}` : "••••";
}

const SECRET_NAME = /(^|_)(api_key|key|token|secret|password)$/;

/** A deep copy of `value` with every secret-named string masked. */
export function maskSecrets(value: unknown, name = ""): unknown {
  if (typeof value === "string") return SECRET_NAME.test(name) ? maskSecret(value) : value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, name));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskSecrets(v, k);
    return out;
  }
  return value;
}

/** `GET /api/v1/config`: the effective configuration, secrets masked, with each key's origin. */
export function configReport(config: Config, origins: Record<string, string>) {
  return {
    values: maskSecrets(config),
    origins: Object.fromEntries(Object.keys(config).map((k) => [k, origins[k] ?? "default"])),
  };
}

/** Reads a counter's series back into their labels. */
function seriesOf(counter: Counter): { labels: Record<string, string>; value: number }[] {
  return [...counter.values].map(([key, value]) => {
    const labels: Record<string, string> = {};
    for (const m of key.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2];
    return { labels, value };
  });
}

/** `GET /api/v1/providers`: the chain in order, with key pools, cooldowns and call outcomes. */
export function providersReport(targets: Target[], attempts: Counter, fallbacks: Counter) {
  const outcomes: Record<string, Record<string, number>> = {};
  for (const { labels, value } of seriesOf(attempts)) {
    if (labels.provider && labels.outcome) {
      (outcomes[labels.provider] ??= {})[labels.outcome] = value;
    }
  }
  const fallbackTo: Record<string, number> = {};
  for (const { labels, value } of seriesOf(fallbacks)) if (labels.to) fallbackTo[labels.to] = value;
  return {
    chain: targets.map((t) => {
      const calls = outcomes[t.name] ?? {};
      const ok = calls.ok ?? 0;
      const failed = Object.entries(calls).reduce((n, [k, v]) => (k === "ok" ? n : n + v), 0);
      return {
        position: t.position,
        provider: t.name,
        label: t.spec.label,
        base_url: t.baseUrl,
        model: t.model || t.spec.defaultModel || "(the client's)",
        health: ok + failed === 0
          ? "no calls yet"
          : failed === 0
          ? "ok"
          : ok === 0
          ? "failing"
          : "mixed",
        outcomes: calls,
        fallbacks_to_here: fallbackTo[t.name] ?? 0,
        keys: t.keys.describe().map((k) => ({
          label: k.label,
          key: maskSecret(k.key),
          priority: k.priority,
          cooling_until: k.coolingUntil === null ? null : new Date(k.coolingUntil).toISOString(),
        })),
      };
    }),
  };
}

/**
 * `GET /api/v1/timeline?minutes=N`: requests per layer, errors and savings per
 * minute; the whole gateway's, or with a tenant (a non-admin caller, as for
 * the stats) only that tenant's.
 */
export function timelineReport(timeline: Timeline | null, minutes: number, tenant?: string) {
  return {
    minutes,
    scope: tenant === undefined ? "gateway" : "tenant",
    buckets: timeline ? timeline.window(minutes, tenant) : [],
  };
}
