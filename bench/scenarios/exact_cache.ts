/**
 * Scenario `exact_cache`: an L1a hit over loopback HTTP against a direct call to the mock
 * upstream, in the same run.
 *
 * The mock and two gateways run in their own processes: one with the default `kv` cache
 * backend, one with `memory` (a hit never touches the store in either case: recordings are held
 * in memory in front of it). Each gateway's cache is warmed with one request per body and the
 * second answer must come from L1a. Then direct-to-mock and gateway hits are measured
 * interleaved at c=1 and c=64, for a small chat request and for a 200 KB coding-agent request
 * (system prompt, tools, many tool calls and results: see `agentRequest` in
 * `bench/scenarios/cache_key.ts`). The mock parses the body as well, so the direct call is the
 * fair baseline: a hit must at least read and parse what the client sent.
 *
 * Targets (2-core machine, load generator included), for the `kv` backend: hit p50 at most 1.5x
 * the direct p50 at c=1 (both bodies); at least 15,000 hits/s at c=64 (small request).
 *
 * @module
 */

import { compareInterleaved, type Comparison, type Contender, pairedFigure } from "../compare.ts";
import { fmt } from "../format.ts";
import { startGatewayServer, startMockServer } from "../servers/launch.ts";
import type { ServerProcess } from "../servers/spawn.ts";
import { checkTarget, round } from "../stats.ts";
import type { LoadStats, ScenarioContext, ScenarioResult, Table, TargetCheck } from "../types.ts";
import { agentRequest, SMALL_REQUEST } from "./cache_key.ts";

/** Scenario id. */
export const name = "exact_cache";

/** What the scenario measures. */
export const description =
  "L1a exact-cache hit vs direct to the mock: c=1 and c=64, small and 200 KB agent requests";

/** Portkey's own cache, patched into its build, on this machine, for scale. */
export const PORTKEY_REFERENCE = { hits_rps_c64: 2055, hit_p50_ms_c1: 0.61 } as const;

/** The route measured. */
export const PATH = "/v1/chat/completions";

/** Headers of every measured request. */
export const HEADERS: Record<string, string> = {
  "content-type": "application/json",
  "authorization": "Bearer sk-bench-client",
  "user-agent": "isartor-bench",
};

/**
 * Run lengths for the full and the quick run. The small request gets more rounds: its c=1 ratio
 * sits near the target, and single runs on a shared 2-core machine vary by up to 2x at c=1
 * (scheduling of the server next to wrk), which the median of paired rounds absorbs.
 */
const SETTINGS = {
  full: { rounds: { small: 5, agent_200k: 3 }, durationS: 1, warmupS: 1 },
  quick: { rounds: { small: 1, agent_200k: 1 }, durationS: 1, warmupS: 1 },
};

/** The cache backends measured, each in its own gateway process; targets apply to the first. */
const BACKENDS = ["kv", "memory"] as const;

/** Gateway config per backend: only L1a in front of L3. */
export function gatewayConfig(backend: string): Record<string, unknown> {
  return { cache_mode: "exact", cache_backend: backend };
}

/** Target thresholds. */
const TARGET = { p50_ratio_c1: 1.5, hits_rps_c64: 15000 } as const;

/** The bodies measured. */
function bodies(): { id: "small" | "agent_200k"; label: string; body: string }[] {
  return [
    { id: "small", label: "small chat", body: JSON.stringify(SMALL_REQUEST) },
    { id: "agent_200k", label: "agent 200 KB", body: JSON.stringify(agentRequest(200 * 1024)) },
  ];
}

/** The L1a counters of `/api/v1/cache/stats`. */
export interface CacheCounters {
  hits: number;
  misses: number;
  stores: number;
  bypassed: number;
  coalesced: number;
}

/** Reads a gateway's L1a counters. */
export async function cacheCounters(gateway: ServerProcess): Promise<CacheCounters> {
  const res = await fetch(`${gateway.url}/api/v1/cache/stats`, { headers: HEADERS });
  const json = await res.json() as { l1a?: CacheCounters | null };
  if (!res.ok || !json.l1a) {
    throw new Error(`${gateway.name}: cache stats answered ${res.status}: ${JSON.stringify(json)}`);
  }
  return json.l1a;
}

/**
 * Checks the mock answers the body, then warms the gateway's cache with it: the first answer may
 * come from anywhere, the second must come from L1a.
 */
export async function warm(
  mock: ServerProcess,
  gateway: ServerProcess,
  body: string,
  label: string,
) {
  const direct = await fetch(`${mock.url}${PATH}`, { method: "POST", headers: HEADERS, body });
  const directText = await direct.text();
  if (!direct.ok) {
    throw new Error(`mock answered ${direct.status} to the ${label} body: ${directText}`);
  }
  const layers: (string | null)[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${gateway.url}${PATH}`, { method: "POST", headers: HEADERS, body });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`${gateway.name} answered ${res.status} to the ${label} body: ${text}`);
    }
    const json = JSON.parse(text) as { choices?: { message?: { content?: string } }[] };
    if (typeof json.choices?.[0]?.message?.content !== "string") {
      throw new Error(`${gateway.name} answered an unexpected body: ${text.slice(0, 300)}`);
    }
    layers.push(res.headers.get("x-isartor-layer"));
  }
  if (layers[1] !== "l1a") {
    throw new Error(
      `${gateway.name}: the second ${label} request was answered by layer ${layers[1]} ` +
        `(first: ${layers[0]}), not l1a: the exact cache did not store or find the answer`,
    );
  }
}

/** Hit-vs-direct figures of one backend for one body. */
export interface HitRatios {
  /** Hit p50 ÷ direct p50 at c=1 (median of per-round pairs). */
  p50_ratio_c1: number;
  /** Hit p99 ÷ direct p99 at c=1. */
  p99_ratio_c1: number;
  /** Hit p50 − direct p50 at c=1, ms. */
  p50_delta_ms_c1: number;
  /** Hit req/s ÷ direct req/s at c=1. */
  rps_ratio_c1: number;
  /** Hit req/s ÷ direct req/s at c=64. */
  rps_ratio_c64: number;
  /** Hits per second at c=64 (median over rounds). */
  hits_rps_c64: number;
  /** Hit p50 at c=1, ms (median over rounds). */
  hit_p50_ms_c1: number;
}

/** The {@linkcode HitRatios} of contender `via` against `direct`. */
export function hitRatios(cmp: Comparison, via: string): HitRatios {
  const fig = (c: number, f: (v: LoadStats, b: LoadStats) => number, digits = 3) =>
    round(pairedFigure(cmp, c, via, "direct", f), digits);
  return {
    p50_ratio_c1: fig(1, (v, b) => v.p50_ms / b.p50_ms),
    p99_ratio_c1: fig(1, (v, b) => v.p99_ms / b.p99_ms),
    p50_delta_ms_c1: fig(1, (v, b) => v.p50_ms - b.p50_ms),
    rps_ratio_c1: fig(1, (v, b) => v.rps / b.rps),
    rps_ratio_c64: fig(64, (v, b) => v.rps / b.rps),
    hits_rps_c64: round(cmp.c64[via].stats.rps, 1),
    hit_p50_ms_c1: cmp.c1[via].stats.p50_ms,
  };
}

/** Runs the scenario. */
export async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const s = ctx.quick ? SETTINGS.quick : SETTINGS.full;
  const started: ServerProcess[] = [];
  try {
    ctx.log(`  starting mock upstream and ${BACKENDS.length} gateways (one process each)`);
    const mock = await startMockServer(ctx);
    started.push(mock);
    const gateways = await Promise.all(
      BACKENDS.map((b) => startGatewayServer(ctx, mock.url, gatewayConfig(b))),
    );
    started.push(...gateways);
    const hitName = (b: string) => `hit_${b}`;
    const contenders: Contender[] = [
      { name: "direct", url: `${mock.url}${PATH}`, processes: [mock] },
      ...BACKENDS.map((b, i) => ({
        name: hitName(b),
        url: `${gateways[i].url}${PATH}`,
        // The mock is listed to show it does no work on hits.
        processes: [mock, { ...gateways[i], name: "gateway" }],
      })),
    ];

    const measured = bodies();
    const before = await Promise.all(gateways.map(cacheCounters));
    const comparisons: Record<string, Comparison> = {};
    const ratios: Record<string, Record<string, HitRatios>> = {};
    for (const b of measured) {
      ctx.log(`  ${b.label} (${new TextEncoder().encode(b.body).byteLength} bytes)`);
      for (let i = 0; i < gateways.length; i++) {
        await warm(mock, { ...gateways[i], name: `gateway (${BACKENDS[i]})` }, b.body, b.label);
      }
      const cmp = await compareInterleaved(ctx, contenders, {
        body: b.body,
        headers: HEADERS,
        concurrencies: [1, 64],
        rounds: s.rounds[b.id],
        durationS: s.durationS,
        warmupS: s.warmupS,
      });
      comparisons[b.id] = cmp;
      ratios[b.id] = Object.fromEntries(BACKENDS.map((k) => [k, hitRatios(cmp, hitName(k))]));
    }
    const after = await Promise.all(gateways.map(cacheCounters));

    // Every timed gateway request must have been a hit: one miss per body (the warm-up) only.
    const counters = Object.fromEntries(BACKENDS.map((k, i) => [k, {
      hits: after[i].hits - before[i].hits,
      misses: after[i].misses - before[i].misses,
      bypassed: after[i].bypassed - before[i].bypassed,
      coalesced: after[i].coalesced - before[i].coalesced,
    }]));
    const warnings: string[] = [];
    for (const [k, c] of Object.entries(counters)) {
      if (c.misses > measured.length || c.bypassed > 0) {
        warnings.push(
          `gateway (${k}): ${c.misses} misses and ${c.bypassed} bypasses during the run ` +
            `(expected ${measured.length} misses, one warm-up per body): not every request was a hit`,
        );
      }
    }
    for (const [id, cmp] of Object.entries(comparisons)) {
      for (const byName of Object.values(cmp)) {
        for (const [n, r] of Object.entries(byName)) {
          if (r.stats.errors > 0) warnings.push(`${id} ${n}: ${r.stats.errors} failed requests`);
        }
      }
    }

    const kv = BACKENDS[0];
    const targets: Record<string, TargetCheck> = {};
    for (const b of measured) {
      targets[`${b.id}_hit_p50_ratio_c1`] = checkTarget(
        `${b.label}: L1a hit p50 / direct p50 at c=1 (${kv} backend)`,
        ratios[b.id][kv].p50_ratio_c1,
        "ratio",
        "<=",
        TARGET.p50_ratio_c1,
      );
    }
    targets.small_hits_rps_c64 = checkTarget(
      `small chat: L1a hits/s at c=64 (${kv} backend)`,
      ratios.small[kv].hits_rps_c64,
      "req/s",
      ">=",
      TARGET.hits_rps_c64,
    );

    const data = {
      description,
      generator: { name: ctx.load.name, version: ctx.load.version },
      settings: {
        rounds: s.rounds,
        duration_s: s.durationS,
        warmup_s: s.warmupS,
        concurrencies: [1, 64],
        path: PATH,
        bodies: Object.fromEntries(measured.map((b) => [b.id, {
          label: b.label,
          bytes: new TextEncoder().encode(b.body).byteLength,
        }])),
        upstream: "tests/support/mock_upstream.ts (record: false), own process",
        gateways: Object.fromEntries(BACKENDS.map((k) => [k, gatewayConfig(k)])),
        targets_apply_to: kv,
      },
      results: comparisons,
      ratios,
      cache_counters: counters,
      reference: { portkey_cache: PORTKEY_REFERENCE },
      errors: warnings,
    };

    const notes: string[] = [`generator: ${ctx.load.name} (${ctx.load.version})`];
    for (const b of measured) {
      for (const k of BACKENDS) {
        const r = ratios[b.id][k];
        notes.push(
          `${b.label}, ${k}: hit p50 ${fmt(r.hit_p50_ms_c1)} ms = ${
            fmt(r.p50_ratio_c1, 2)
          }x direct at c=1 (${r.p50_delta_ms_c1 >= 0 ? "+" : ""}${fmt(r.p50_delta_ms_c1)} ms); ${
            fmt(r.hits_rps_c64, 0)
          } hits/s at c=64 = ${fmt(r.rps_ratio_c64, 2)}x direct`,
        );
      }
    }
    notes.push(
      `reference, Portkey's cache on this machine: ${PORTKEY_REFERENCE.hits_rps_c64} hits/s at c=64, ` +
        `p50 ${PORTKEY_REFERENCE.hit_p50_ms_c1} ms at c=1 (small request)`,
      "the 15,000 hits/s target is checked on the small request; the 200 KB request is bound by " +
        "reading and parsing 200 KB per request on both sides (see its ratio to direct)",
      ...(ctx.load.name === "wrk" ? [] : [
        "note: the built-in fetch generator limits throughput at c=64; install wrk for accurate figures",
      ]),
      ...warnings.map((w) => `WARNING ${w}`),
    );

    return {
      data,
      targets,
      tables: measured.map((b) =>
        loadTable(comparisons[b.id], b.label, { rounds: s.rounds[b.id], durationS: s.durationS })
      ),
      notes,
    };
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}

function loadTable(
  cmp: Comparison,
  label: string,
  s: { rounds: number; durationS: number },
): Table {
  const rows: string[][] = [];
  for (const [key, byName] of Object.entries(cmp)) {
    const c = Number(key.slice(1));
    for (const [contender, r] of Object.entries(byName)) {
      const vs = (f: (v: LoadStats, b: LoadStats) => number) =>
        pairedFigure(cmp, c, contender, "direct", f);
      const direct = contender === "direct";
      rows.push([
        contender,
        String(c),
        fmt(r.stats.p50_ms),
        fmt(r.stats.p99_ms),
        fmt(r.stats.mean_ms),
        fmt(r.stats.rps, 0),
        direct ? "" : fmt(vs((v, b) => v.p50_ms / b.p50_ms), 2),
        direct ? "" : fmt(vs((v, b) => v.rps / b.rps), 2),
        fmt(r.cpu_us_per_request.mock ?? NaN, 0),
        direct ? "" : fmt(r.cpu_us_per_request.gateway ?? NaN, 0),
        String(r.stats.errors),
      ]);
    }
  }
  return {
    title: `${label}: POST ${PATH}, direct to the mock vs L1a hits (median of ${s.rounds} ` +
      `round(s) x ${s.durationS} s; ratios: median of per-round pairs)`,
    columns: [
      "path",
      "c",
      "p50 ms",
      "p99 ms",
      "mean ms",
      "req/s",
      "p50 ratio",
      "req/s ratio",
      "mock CPU us/req",
      "gateway CPU us/req",
      "errors",
    ],
    rows,
  };
}
