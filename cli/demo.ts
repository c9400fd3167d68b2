/**
 * `isartor demo`: the real pipeline on a bundled workload, against a built-in
 * simulated provider, so it works with no key and no network. It reports what
 * each layer answered, the latency per layer and the tokens saved, exactly as
 * the gateway's `X-Isartor-Layer` headers and stats API say. With a working
 * provider key it first makes one live round trip, then replays that prompt.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createGateway } from "../src/app.ts";
import { loadEmbedder } from "../src/embed/build.ts";
import { modelEnv } from "./up.ts";
import { parseConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/schema.ts";
import { DEFAULT_PRICES } from "../src/telemetry/prices.ts";
import type { StatsReport } from "../src/telemetry/stats.ts";
import { serveGateway } from "../src/server.ts";
import { loadCliConfig } from "./config.ts";
import { type LiveResult, liveRoundTrip, liveTarget } from "./demo_live.ts";
import { SIMULATED_MARK, startSimulatedUpstream } from "./demo_upstream.ts";
import { DEMO_SYSTEMS, DEMO_WORKLOAD, type DemoPrompt } from "./demo_workload.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { usd } from "./stats.ts";
import { startSpinner } from "./spinner.ts";

export const usage = `isartor demo [--json] [--sim-latency MS] [--no-live]

Runs the real gateway pipeline on a bundled workload (${DEMO_WORKLOAD.length} prompts with
exact repeats and paraphrases) against a built-in simulated provider, and shows
which layer answered each request, the latency per layer and the tokens saved.
Needs no key and no network; simulated answers are marked "${SIMULATED_MARK}".
It uses your cache settings, with a throw-away data directory.

With a working provider key in the config, it first makes one live round trip
to that provider, then sends the same prompt again to show the layer answering it.

Options:
  --json             machine-readable results
  --sim-latency MS   delay of the simulated provider per call (default 300)
  --no-live          skip the live round trip even with a key

Examples:
  isartor demo
  isartor demo --no-live --sim-latency 0 --json`;

/** The rows always shown; L2 joins them only when it is on (or answered). */
const LAYERS = ["l1a", "l1b", "l3"];
const LABELS: Record<string, string> = {
  l1a: "L1a exact cache",
  l1b: "L1b semantic cache",
  l2: "L2 router",
  l3: "L3 cloud (simulated)",
  error: "errors",
};

/** One replayed request. */
export interface DemoResult {
  index: number;
  kind: DemoPrompt["kind"];
  prompt: string;
  layer: string;
  status: number;
  ms: number;
  input_tokens: number | null;
  output_tokens: number | null;
  /** The answer carries the simulated marker (it came from the simulated provider, maybe via a cache). */
  simulated: boolean;
}

/** What one layer did over the workload. */
export interface LayerSummary {
  answered: number;
  share: number;
  p50_ms: number | null;
  /** Deflected layers: tokens the cloud was not asked for. L3: tokens it was asked for. */
  tokens: number;
  simulated: true;
}

const num = (n: number) => n.toLocaleString("en-US");

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The per-layer table of the results (every layer listed; they sum to the workload size). */
export function summarize(
  results: DemoResult[],
  l2On = false,
): Record<string, LayerSummary> {
  const shown = l2On ? ["l1a", "l1b", "l2", "l3"] : LAYERS;
  const keys = [
    ...shown,
    ...new Set(results.map((r) => r.layer).filter((l) => !shown.includes(l))),
  ];
  const out: Record<string, LayerSummary> = {};
  for (const layer of keys) {
    const rs = results.filter((r) => r.layer === layer);
    out[layer] = {
      answered: rs.length,
      share: results.length ? rs.length / results.length : 0,
      p50_ms: median(rs.map((r) => r.ms)),
      tokens: rs.reduce((n, r) => n + (r.input_tokens ?? 0) + (r.output_tokens ?? 0), 0),
      simulated: true,
    };
  }
  return out;
}

/**
 * The config of a throw-away gateway in front of the simulated provider: the
 * user's settings minus everything that would reach a real provider, the
 * user's keys or data directory; `over` adds the caller's own settings.
 */
export function simulatedConfig(
  base: Config,
  simUrl: string,
  dataDir: string,
  over: Record<string, unknown> = {},
): Config {
  return parseConfig({
    ...base,
    host_port: "127.0.0.1:0",
    data_dir: dataDir,
    gateway_api_key: "",
    llm_provider: "openai_compatible",
    external_llm_url: simUrl,
    external_llm_api_key: "",
    external_llm_model: "",
    provider_keys: [],
    fallback_providers: [],
    model_aliases: {},
    offline_mode: false,
    l3_max_retries: 0,
    ...over,
  });
}

/** The demo's config: the user's settings, a simulated provider, a throw-away data directory. */
function demoConfig(base: Config, simUrl: string, dataDir: string): Config {
  return simulatedConfig(base, simUrl, dataDir, {
    provider_prices: {
      ...base.provider_prices,
      openai_compatible: base.provider_prices.openai ?? DEFAULT_PRICES.openai,
    },
  });
}

async function replay(
  url: string,
  io: CliIO,
  json: boolean,
): Promise<DemoResult[]> {
  const results: DemoResult[] = [];
  const spinner = json ? startSpinner(io, "replaying the workload...") : null;
  for (const [i, item] of DEMO_WORKLOAD.entries()) {
    spinner?.update(`replaying the workload: ${i + 1}/${DEMO_WORKLOAD.length}`);
    const started = performance.now();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "isartor-demo" },
      body: JSON.stringify({
        model: "demo-model",
        temperature: 0,
        messages: [
          { role: "system", content: DEMO_SYSTEMS[item.system] },
          { role: "user", content: item.prompt },
        ],
      }),
    });
    const body = await res.json().catch(() => null);
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const content = body?.choices?.[0]?.message?.content;
    const result: DemoResult = {
      index: i + 1,
      kind: item.kind,
      prompt: item.prompt,
      layer: res.headers.get("x-isartor-layer") ?? "error",
      status: res.status,
      ms,
      input_tokens: body?.usage?.prompt_tokens ?? null,
      output_tokens: body?.usage?.completion_tokens ?? null,
      simulated: typeof content === "string" && content.startsWith(SIMULATED_MARK),
    };
    results.push(result);
    if (!json) {
      const layer = result.layer === "l3"
        ? result.layer.padEnd(4)
        : style(io, result.layer.padEnd(4), "green");
      const prompt = item.prompt.length > 60 ? `${item.prompt.slice(0, 57)}...` : item.prompt;
      io.out(
        `  ${String(i + 1).padStart(2)}/${DEMO_WORKLOAD.length}  ${layer} ${
          `${Math.round(ms)}ms`.padStart(7)
        }  ${item.kind.padEnd(10)}  ${prompt}`,
      );
    }
  }
  spinner?.stop();
  return results;
}

/** Runs `isartor demo`. */
export async function runDemo(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean" },
      "sim-latency": { type: "string" },
      "no-live": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  const latencyMs = values["sim-latency"] === undefined ? 300 : Number(values["sim-latency"]);
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60_000) {
    throw new UsageError(
      `--sim-latency must be milliseconds from 0 to 60000, got "${values["sim-latency"]}"`,
    );
  }
  const json = values.json === true;
  const { config } = loadCliConfig();
  const tmp = await Deno.makeTempDir({ prefix: "isartor-demo-" });
  try {
    let live: LiveResult | null = null;
    const target = values["no-live"] ? null : liveTarget(config);
    if (target) {
      if (!json) io.out(style(io, `Live round trip to ${target.label} (your key):`, "bold"));
      await Deno.mkdir(`${tmp}/live`);
      live = await liveRoundTrip(config, `${tmp}/live`, io);
      if (!json) { for (const line of live.lines) io.out(`  ${line}`); }
    }

    const sim = await startSimulatedUpstream({ latencyMs });
    await Deno.mkdir(`${tmp}/sim`);
    const simConfig = demoConfig(config, sim.url, `${tmp}/sim`);
    // MiniLM when its model is on disk (never downloaded by the demo), else the model-free matcher.
    const loaded = await loadEmbedder(simConfig, { env: modelEnv(), download: false });
    if (loaded.notice && !json) io.out(style(io, `note: ${loaded.notice}`, "dim"));
    const gateway = createGateway(simConfig, { embedder: loaded.embedder });
    const server = await serveGateway(gateway);
    let results: DemoResult[];
    let stats: StatsReport | null = null;
    try {
      if (!json) {
        io.out(
          style(
            io,
            `Simulated workload: ${DEMO_WORKLOAD.length} requests through the real pipeline`,
            "bold",
          ),
        );
        io.out(
          `  (the provider is simulated: answers are canned, marked "${SIMULATED_MARK}", ${latencyMs}ms per call)`,
        );
      }
      results = await replay(server.url, io, json);
      const res = await fetch(`${server.url}/api/v1/stats`);
      stats = res.ok ? await res.json() : (await res.body?.cancel(), null);
    } finally {
      await server.shutdown();
      await sim.close();
    }
    const layers = summarize(results, simConfig.enable_slm_router);
    const deflected = results.filter((r) =>
      r.layer !== "l3" && r.layer !== "error" && r.status < 400
    );
    const saved = deflected.reduce((n, r) => n + (r.input_tokens ?? 0) + (r.output_tokens ?? 0), 0);
    const report = {
      simulated: true,
      upstream:
        `simulated provider: canned answers marked "${SIMULATED_MARK}", ${latencyMs}ms per call; no model was called`,
      workload: {
        requests: results.length,
        originals: results.filter((r) => r.kind === "original").length,
        exact_repeats: results.filter((r) => r.kind === "repeat").length,
        paraphrases: results.filter((r) => r.kind === "paraphrase").length,
      },
      layers,
      totals: {
        requests: results.length,
        deflected: deflected.length,
        simulated_provider_calls: sim.calls,
        tokens_saved: saved,
        est_cost_saved_usd: stats?.totals.saved_cost_usd ?? 0,
        price_note:
          "estimate at a typical cloud model's list price (provider_prices.openai, else built-in)",
      },
      live,
      results,
    };
    if (json) {
      io.out(JSON.stringify({ ...report, live: live && { ...live, lines: undefined } }, null, 2));
      return EXIT.ok;
    }
    io.out("");
    io.out(style(io, "Per layer (the provider is simulated):", "bold"));
    io.out(`  ${"layer".padEnd(22)}  answered  share  p50 latency  tokens`);
    for (const [layer, s] of Object.entries(layers)) {
      const tokens = !s.answered
        ? ""
        : layer === "l3"
        ? `${num(s.tokens)} sent`
        : `${num(s.tokens)} saved`;
      io.out(
        [
          `  ${(LABELS[layer] ?? layer).padEnd(22)}`,
          String(s.answered).padStart(8),
          `${(s.share * 100).toFixed(0)}%`.padStart(5),
          (s.p50_ms === null ? "-" : `${Math.round(s.p50_ms)}ms`).padStart(11),
          tokens,
        ].join("  ").trimEnd(),
      );
    }
    io.out(
      `Deflected ${deflected.length} of ${results.length} requests; ${
        num(saved)
      } tokens saved; est. ${
        usd(report.totals.est_cost_saved_usd)
      } saved (an estimate at a typical cloud model's list price).`,
    );
    const paraphrases = results.filter((r) => r.kind === "paraphrase").length;
    if (layers.l1b && layers.l1b.answered === 0 && paraphrases > 0) {
      io.out(
        loaded.embedder.name === "none"
          ? "L1b matched none of the paraphrases: without MiniLM on disk the model-free matcher only matches near-identical wording; `isartor models pull` fetches MiniLM."
          : `L1b matched none of the paraphrases (cache_mode = "${simConfig.cache_mode}"; \`isartor check\` shows the layers).`,
      );
    }
    if (deflected.length === 0) {
      io.out(
        "No cache layer answered: check cache_mode (`isartor check` shows the layers).",
      );
    }
    io.out("");
    io.out(`Next: \`isartor up --detach\`, point your tool at it, then \`isartor stats\`.`);
    return EXIT.ok;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
