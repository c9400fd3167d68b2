/**
 * Scenario `overhead`: what the gateway adds on top of the upstream.
 *
 * Against the mock upstream, in one run: direct to the mock, through a bare `Deno.serve` +
 * `fetch` proxy (the runtime's floor), and through the gateway; non-streaming at c=1 and c=64
 * (interleaved rounds, medians), then streaming time to first byte over sequential requests.
 * Every server runs in its own subprocess.
 *
 * Targets (2-core machine): p50 overhead under 0.2 ms at c=1; gateway throughput at least 40%
 * of direct at c=64; TTFB within 1 ms of direct (p50).
 *
 * @module
 */

import { compareInterleaved, type Comparison, type Contender, pairedFigure } from "../compare.ts";
import { fmt, fmtDelta } from "../format.ts";
import { startBareProxyServer, startGatewayServer, startMockServer } from "../servers/launch.ts";
import type { ServerProcess } from "../servers/spawn.ts";
import { checkTarget, round } from "../stats.ts";
import { runTtfbSeries, type TtfbStats } from "../ttfb.ts";
import type { LoadStats, ScenarioContext, ScenarioResult, Table, TargetCheck } from "../types.ts";

/** Scenario id. */
export const name = "overhead";

/** What the scenario measures. */
export const description =
  "gateway overhead vs direct to the mock upstream: non-streaming c=1 and c=64, streaming TTFB";

/** The figures Portkey's gateway reaches on this machine, for scale. */
export const PORTKEY_REFERENCE = {
  p50_overhead_ms_c1: 0.9,
  rps_c64: 1050,
  ttfb_delta_ms: 28,
} as const;

const PATH = "/v1/chat/completions";

/** A small, typical chat request (what an SDK sends, minus its telemetry headers). */
const REQUEST = {
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "You are a helpful assistant. Answer in one short sentence." },
    { role: "user", content: "What is the capital of France?" },
  ],
  temperature: 0,
};

const HEADERS: Record<string, string> = {
  "content-type": "application/json",
  "authorization": "Bearer sk-bench-client",
  "user-agent": "isartor-bench",
};

/** Run lengths for the full and the quick run. */
const SETTINGS = {
  full: { rounds: 5, durationS: 2, warmupS: 2, ttfbRequests: 200, ttfbWarmup: 20 },
  quick: { rounds: 1, durationS: 1, warmupS: 1, ttfbRequests: 40, ttfbWarmup: 5 },
};

/** Gateway-minus-direct figures (the same shape is used for the bare proxy). */
export interface OverheadRatios {
  /** Gateway p50 − direct p50 at c=1, ms. */
  p50_overhead_ms: number;
  /** Gateway p99 − direct p99 at c=1, ms. */
  p99_overhead_ms_c1: number;
  /** Gateway p50 − direct p50 at c=64, ms. */
  p50_overhead_ms_c64: number;
  /** Gateway req/s ÷ direct req/s at c=1. */
  throughput_ratio_c1: number;
  /** Gateway req/s ÷ direct req/s at c=64. */
  throughput_ratio_c64: number;
  /** Gateway TTFB p50 − direct TTFB p50, ms. */
  ttfb_delta_p50_ms: number;
  /** Gateway TTFB p99 − direct TTFB p99, ms. */
  ttfb_delta_p99_ms: number;
}

/**
 * The overhead figures of `via` against `direct`.
 *
 * @example
 * ```ts ignore
 * const r = overheadRatios(comparison, ttfb, "gateway", "direct");
 * r.throughput_ratio_c64;
 * ```
 */
export function overheadRatios(
  cmp: Comparison,
  ttfb: Record<string, TtfbStats>,
  via: string,
  direct: string,
): OverheadRatios {
  const fig = (c: number, f: (v: LoadStats, b: LoadStats) => number) =>
    round(pairedFigure(cmp, c, via, direct, f));
  return {
    p50_overhead_ms: fig(1, (v, b) => v.p50_ms - b.p50_ms),
    p99_overhead_ms_c1: fig(1, (v, b) => v.p99_ms - b.p99_ms),
    p50_overhead_ms_c64: fig(64, (v, b) => v.p50_ms - b.p50_ms),
    throughput_ratio_c1: fig(1, (v, b) => v.rps / b.rps),
    throughput_ratio_c64: fig(64, (v, b) => v.rps / b.rps),
    ttfb_delta_p50_ms: round(ttfb[via].ttfb.p50_ms - ttfb[direct].ttfb.p50_ms),
    ttfb_delta_p99_ms: round(ttfb[via].ttfb.p99_ms - ttfb[direct].ttfb.p99_ms),
  };
}

/**
 * The gateway's config for this scenario: every request must take the pass-through path (L3),
 * so caches are off (the bench repeats one request, which a cache would answer; cache hits are
 * the `cache` scenario's subject). Unknown keys are ignored by the config parser.
 */
export const GATEWAY_CONFIG: Record<string, unknown> = { cache_mode: "off" };

/**
 * Checks that each contender answers a plain request correctly before any timing, twice, and
 * that the gateway's answers come from the upstream (`x-isartor-layer: l3`), not from a cache.
 */
async function sanityCheck(contenders: readonly Contender[], body: string): Promise<void> {
  for (const c of contenders) {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(c.url, { method: "POST", headers: HEADERS, body });
      const text = await res.text();
      if (!res.ok) throw new Error(`${c.name} answered ${res.status}: ${text.slice(0, 300)}`);
      const json = JSON.parse(text) as { choices?: { message?: { content?: string } }[] };
      if (typeof json.choices?.[0]?.message?.content !== "string") {
        throw new Error(`${c.name} answered an unexpected body: ${text.slice(0, 300)}`);
      }
      const layer = res.headers.get("x-isartor-layer");
      if (c.name === "gateway" && layer !== "l3") {
        throw new Error(
          `the gateway answered from layer ${layer}, not l3: this scenario measures the pass-through path`,
        );
      }
    }
  }
}

/** Runs the scenario. */
export async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const s = ctx.quick ? SETTINGS.quick : SETTINGS.full;
  const body = JSON.stringify(REQUEST);
  const streamBody = JSON.stringify({ ...REQUEST, stream: true });
  const started: ServerProcess[] = [];
  try {
    ctx.log("  starting mock upstream, bare proxy and gateway (one process each)");
    const mock = await startMockServer(ctx);
    started.push(mock);
    const [bare, gateway] = await Promise.all([
      startBareProxyServer(ctx, mock.url),
      startGatewayServer(ctx, mock.url, GATEWAY_CONFIG),
    ]);
    started.push(bare, gateway);

    const contenders: Contender[] = [
      { name: "direct", url: `${mock.url}${PATH}`, processes: [mock] },
      { name: "bare_proxy", url: `${bare.url}${PATH}`, processes: [mock, bare] },
      { name: "gateway", url: `${gateway.url}${PATH}`, processes: [mock, gateway] },
    ];
    await sanityCheck(contenders, body);

    const cmp = await compareInterleaved(ctx, contenders, {
      body,
      headers: HEADERS,
      concurrencies: [1, 64],
      rounds: s.rounds,
      durationS: s.durationS,
      warmupS: s.warmupS,
    });

    ctx.log(`  streaming TTFB: ${s.ttfbRequests} sequential requests per target, interleaved`);
    const ttfb = await runTtfbSeries(
      contenders,
      streamBody,
      HEADERS,
      s.ttfbRequests,
      s.ttfbWarmup,
    );

    const ratios = overheadRatios(cmp, ttfb, "gateway", "direct");
    const bareRatios = overheadRatios(cmp, ttfb, "bare_proxy", "direct");
    const targets: Record<string, TargetCheck> = {
      p50_overhead_c1: checkTarget(
        "p50 overhead at c=1 (gateway - direct)",
        ratios.p50_overhead_ms,
        "ms",
        "<",
        0.2,
      ),
      throughput_ratio_c64: checkTarget(
        "throughput at c=64 (gateway / direct)",
        ratios.throughput_ratio_c64,
        "ratio",
        ">=",
        0.4,
      ),
      ttfb_delta_p50: checkTarget(
        "streaming TTFB p50 (gateway - direct)",
        ratios.ttfb_delta_p50_ms,
        "ms",
        "<=",
        1,
      ),
    };

    const errors = Object.values(cmp).flatMap((byName) =>
      Object.entries(byName).filter(([, r]) => r.stats.errors > 0).map(([n, r]) =>
        `${n}: ${r.stats.errors} failed requests`
      )
    );
    const roundTtfb = (t: TtfbStats) => ({
      ttfb: roundSummary(t.ttfb),
      total: roundSummary(t.total),
      errors: t.errors,
    });

    const data = {
      description,
      generator: { name: ctx.load.name, version: ctx.load.version },
      settings: {
        rounds: s.rounds,
        duration_s: s.durationS,
        warmup_s: s.warmupS,
        concurrencies: [1, 64],
        ttfb_requests: s.ttfbRequests,
        path: PATH,
        request_body_bytes: new TextEncoder().encode(body).byteLength,
        upstream: "tests/support/mock_upstream.ts (record: false), own process",
        gateway: "createGateway + serveGateway, llm_provider openai_compatible, own process",
        gateway_config: GATEWAY_CONFIG,
      },
      non_streaming: cmp,
      ttfb: Object.fromEntries(Object.entries(ttfb).map(([k, v]) => [k, roundTtfb(v)])),
      ratios: { ...ratios, bare_proxy: bareRatios },
      reference: { portkey: PORTKEY_REFERENCE },
      errors,
    };

    return {
      data,
      targets,
      tables: [loadTable(cmp, s), ttfbTable(ttfb, s.ttfbRequests)],
      notes: [
        `generator: ${ctx.load.name} (${ctx.load.version})`,
        `gateway vs direct: p50 overhead c=1 ${fmtDelta(ratios.p50_overhead_ms)} ms, c=64 ${
          fmtDelta(ratios.p50_overhead_ms_c64)
        } ms; throughput c=1 ${fmt(ratios.throughput_ratio_c1, 2)}x, c=64 ${
          fmt(ratios.throughput_ratio_c64, 2)
        }x; TTFB p50 ${fmtDelta(ratios.ttfb_delta_p50_ms)} ms, p99 ${
          fmtDelta(ratios.ttfb_delta_p99_ms)
        } ms`,
        `bare proxy vs direct: p50 overhead c=1 ${
          fmtDelta(bareRatios.p50_overhead_ms)
        } ms; throughput c=64 ${fmt(bareRatios.throughput_ratio_c64, 2)}x; TTFB p50 ${
          fmtDelta(bareRatios.ttfb_delta_p50_ms)
        } ms`,
        `reference, Portkey gateway on this machine: +${PORTKEY_REFERENCE.p50_overhead_ms_c1} ms p50, ${PORTKEY_REFERENCE.rps_c64} req/s at c=64, +${PORTKEY_REFERENCE.ttfb_delta_ms} ms TTFB`,
        ...(ctx.load.name === "wrk" ? [] : [
          "note: the built-in fetch generator may itself limit throughput at c=64; install wrk for accurate ratios",
        ]),
        ...errors.map((e) => `WARNING ${e}`),
      ],
    };
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}

function roundSummary<T extends object>(summary: T): T {
  return Object.fromEntries(
    Object.entries(summary).map(([k, v]) => [k, typeof v === "number" ? round(v) : v]),
  ) as T;
}

function loadTable(cmp: Comparison, s: { rounds: number; durationS: number }): Table {
  const rows: string[][] = [];
  for (const [key, byName] of Object.entries(cmp)) {
    const c = Number(key.slice(1));
    for (const [contender, r] of Object.entries(byName)) {
      const proxyCpu = Object.entries(r.cpu_us_per_request).find(([p]) => p !== "mock")?.[1];
      const vs = (f: (v: LoadStats, b: LoadStats) => number) =>
        pairedFigure(cmp, c, contender, "direct", f);
      rows.push([
        contender,
        String(c),
        fmt(r.stats.p50_ms),
        fmt(r.stats.p99_ms),
        fmt(r.stats.mean_ms),
        fmt(r.stats.rps, 0),
        contender === "direct" ? "" : fmtDelta(vs((v, b) => v.p50_ms - b.p50_ms)),
        contender === "direct" ? "" : fmt(vs((v, b) => v.rps / b.rps), 2),
        fmt(r.cpu_us_per_request.mock ?? NaN, 0),
        proxyCpu === undefined ? "" : fmt(proxyCpu ?? NaN, 0),
        String(r.stats.errors),
      ]);
    }
  }
  return {
    title: `Non-streaming POST ${PATH} (median of ${s.rounds} round(s) x ${s.durationS} s; ` +
      "+ms and ratio: median of per-round pairs)",
    columns: [
      "path",
      "c",
      "p50 ms",
      "p99 ms",
      "mean ms",
      "req/s",
      "p50 +ms",
      "req/s ratio",
      "mock CPU us/req",
      "proxy CPU us/req",
      "errors",
    ],
    rows,
  };
}

function ttfbTable(ttfb: Record<string, TtfbStats>, count: number): Table {
  const direct = ttfb.direct;
  return {
    title: `Streaming time to first byte (${count} sequential requests each, interleaved)`,
    columns: ["path", "p50 ms", "p99 ms", "p50 +ms", "p99 +ms", "full stream p50 ms", "errors"],
    rows: Object.entries(ttfb).map(([n, t]) => [
      n,
      fmt(t.ttfb.p50_ms),
      fmt(t.ttfb.p99_ms),
      n === "direct" ? "" : fmtDelta(t.ttfb.p50_ms - direct.ttfb.p50_ms),
      n === "direct" ? "" : fmtDelta(t.ttfb.p99_ms - direct.ttfb.p99_ms),
      fmt(t.total.p50_ms),
      String(t.errors),
    ]),
  };
}
