/**
 * Scenario `embedding`: the in-process MiniLM embedder (transformers.js on onnxruntime-web WASM,
 * in its worker), end to end through the `Embedder` API.
 *
 * A random-weight BERT with all-MiniLM-L6-v2's exact shape (6 layers, hidden 384, 12 heads,
 * intermediate 1536, vocabulary 30522, 512 positions) is written in Hugging Face layout, fp32 and
 * int8 (dynamic quantization, as in Xenova's export); speed depends on the shape, not on the
 * weights. Each variant runs in its own subprocess (this file with `--probe`), so the memory it
 * adds is measured alone: RSS after loading and warming up minus RSS before.
 *
 * Measured per variant: embed p50/p99 for a 20-token and a 128-token prompt (interleaved), the
 * whole L1b lookup for 20 tokens (embed, then search an index of 100,000 stored vectors), the
 * event-loop lag of the calling thread while the worker is busy, and the RSS added.
 *
 * Target: the L1b lookup p50 at most 5 ms for 20 tokens with the default settings (int8, one WASM
 * thread per core up to 4), without blocking the event loop (lag p99 under 5 ms).
 *
 * @module
 */

import { defaultThreads, loadMiniLm } from "../../src/embed/minilm.ts";
import { VectorIndex } from "../../src/semantic/vector_index.ts";
import { MINILM_L6_SHAPE, promptOfTokens, writeTinyBert } from "../../tests/support/tiny_bert.ts";
import { fmt } from "../format.ts";
import { checkTarget, round, type SampleSummary, summarize } from "../stats.ts";
import type { ScenarioContext, ScenarioResult, Table } from "../types.ts";
import { seededRandom } from "../../tests/support/seeded_random.ts";

/** Scenario id. */
export const name = "embedding";

/** What the scenario measures. */
export const description =
  "MiniLM-L6-shaped embedder in its worker: fp32 vs int8, 20/128 tokens, L1b lookup, RSS";

/** One measured configuration. */
interface Variant {
  id: string;
  dtype: "fp32" | "q8";
  threads: number;
  /** Idle WASM threads spin for work (see MiniLmOptions.spin). */
  spin?: boolean;
}

/** What a probe subprocess reports. */
interface ProbeResult {
  load_ms: number;
  rss_added_mib: number;
  embed_20: SampleSummary;
  embed_128: SampleSummary;
  lookup_20: SampleSummary;
  search_100k: SampleSummary;
  event_loop_lag: SampleSummary;
}

const INDEX_SIZE = 100_000;
const DIMS = 384;

function randomUnitVectors(n: number, seed: number): Float32Array[] {
  const next = seededRandom(seed);
  const rand = () => next() - 0.5;
  return Array.from({ length: n }, () => {
    const v = Float32Array.from({ length: DIMS }, rand);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

/** Runs in the subprocess: loads one variant and measures it. */
async function probe(dir: string, variant: Variant, samples: number): Promise<ProbeResult> {
  const index = new VectorIndex(DIMS);
  randomUnitVectors(INDEX_SIZE, 7).forEach((v, i) => index.add(i, v));
  const short = promptOfTokens(20);
  const long = promptOfTokens(128);
  const rss0 = Deno.memoryUsage().rss;
  const t0 = performance.now();
  const e = await loadMiniLm(dir, {
    dtype: variant.dtype,
    threads: variant.threads,
    warmupRuns: 0,
  });
  const loadMs = performance.now() - t0;
  try {
    // Warm up until V8 has optimized the WASM code (a few seconds of forward passes at most).
    const until = performance.now() + 3000;
    for (let i = 0; i < 30 && performance.now() < until; i++) await e.embed([i % 2 ? short : long]);
    const rssAdded = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
    const t20: number[] = [], t128: number[] = [], lookup: number[] = [], search: number[] = [];
    for (let i = 0; i < samples; i++) {
      let t = performance.now();
      const [v] = await e.embed([short]);
      const embedded = performance.now();
      index.search(v, 8, 0.5);
      const done = performance.now();
      t20.push(embedded - t);
      search.push(done - embedded);
      lookup.push(done - t);
      if (i % 2 === 0) {
        t = performance.now();
        await e.embed([long]);
        t128.push(performance.now() - t);
      }
    }
    // Event-loop lag while the worker embeds long prompts back to back.
    const lag: number[] = [];
    let busy = true;
    const work = (async () => {
      for (let i = 0; i < Math.max(5, samples / 6); i++) await e.embed([long]);
      busy = false;
    })();
    while (busy) {
      const t = performance.now();
      await new Promise((r) => setTimeout(r, 1));
      lag.push(Math.max(0, performance.now() - t - 1));
    }
    await work;
    return {
      load_ms: round(loadMs, 0),
      rss_added_mib: round(rssAdded, 0),
      embed_20: summarize(t20),
      embed_128: summarize(t128),
      lookup_20: summarize(lookup),
      search_100k: summarize(search),
      event_loop_lag: summarize(lag),
    };
  } finally {
    await e.close();
  }
}

async function runProbe(ctx: ScenarioContext, dir: string, v: Variant, samples: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${ctx.repoRoot}/deno.json`,
      `--allow-read`,
      "--allow-env",
      "--allow-sys",
      new URL(import.meta.url).pathname,
      "--probe",
      JSON.stringify({ dir, variant: v, samples }),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) {
    throw new Error(
      `embedding probe ${v.id} failed: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return JSON.parse(text) as ProbeResult;
}

function round2(s: SampleSummary): SampleSummary {
  return Object.fromEntries(
    Object.entries(s).map(([k, x]) => [k, round(x, 3)]),
  ) as unknown as SampleSummary;
}

/** Runs the scenario. */
export async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const dir = `${ctx.scratchDir}/minilm-shaped`;
  ctx.log("writing a random BERT with MiniLM-L6's shape (fp32 + int8)");
  const t0 = performance.now();
  await writeTinyBert(dir, { shape: MINILM_L6_SHAPE, quantized: true });
  const sizes = {
    fp32_mb: round((await Deno.stat(`${dir}/onnx/model.onnx`)).size / 1e6, 1),
    q8_mb: round((await Deno.stat(`${dir}/onnx/model_quantized.onnx`)).size / 1e6, 1),
  };
  ctx.log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const auto = defaultThreads();
  const variants: Variant[] = [
    { id: "fp32_1t", dtype: "fp32", threads: 1 },
    { id: "q8_1t", dtype: "q8", threads: 1 },
    ...(auto > 1 ? [{ id: `q8_${auto}t`, dtype: "q8" as const, threads: auto }] : []),
  ];
  const samples = ctx.quick ? 20 : 60;
  const results: Record<string, ProbeResult> = {};
  for (const v of variants) {
    ctx.log(`  ${v.id}: ${v.dtype}, ${v.threads} thread(s), ${samples} samples`);
    const r = await runProbe(ctx, dir, v, samples);
    results[v.id] = {
      ...r,
      embed_20: round2(r.embed_20),
      embed_128: round2(r.embed_128),
      lookup_20: round2(r.lookup_20),
      search_100k: round2(r.search_100k),
      event_loop_lag: round2(r.event_loop_lag),
    };
  }
  const chosen = results[variants.at(-1)!.id];
  const row = (id: string): string[] => {
    const r = results[id];
    return [
      id,
      fmt(r.embed_20.p50_ms, 2),
      fmt(r.embed_20.p99_ms, 2),
      fmt(r.embed_128.p50_ms, 2),
      fmt(r.embed_128.p99_ms, 2),
      fmt(r.lookup_20.p50_ms, 2),
      fmt(r.event_loop_lag.p99_ms, 2),
      String(r.rss_added_mib),
      String(r.load_ms),
    ];
  };
  const table: Table = {
    title: `Embedding through the Embedder API (worker), MiniLM-L6 shape, random weights`,
    columns: [
      "variant",
      "20 tok p50",
      "20 tok p99",
      "128 tok p50",
      "128 tok p99",
      "lookup p50",
      "loop lag p99",
      "RSS MiB",
      "load ms",
    ],
    rows: variants.map((v) => row(v.id)),
  };
  return {
    data: {
      model_files: sizes,
      default_threads: auto,
      index_entries: INDEX_SIZE,
      variants: results,
    },
    targets: {
      lookup_p50_20_tokens: checkTarget(
        `L1b lookup p50, 20 tokens (embed + search ${INDEX_SIZE / 1000}k), default settings`,
        round(chosen.lookup_20.p50_ms, 2),
        "ms",
        "<=",
        5,
      ),
      event_loop_lag_p99: checkTarget(
        "event-loop lag p99 while the worker embeds",
        round(chosen.event_loop_lag.p99_ms, 2),
        "ms",
        "<",
        5,
      ),
    },
    tables: [table],
    notes: [
      `Model files: fp32 ${sizes.fp32_mb} MB, int8 ${sizes.q8_mb} MB (the real ones: 90.4 and 23.0 MB).`,
      `Default: int8, ${auto} WASM thread(s) (one per core, at most 4; embedding_threads overrides).`,
      "lookup = embed 20 tokens + index search over 100k stored vectors; RSS = added by load + warm-up.",
    ],
  };
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--probe");
  if (i < 0) {
    console.error(
      "usage: embedding.ts --probe JSON (run by `deno task bench -- --only embedding`)",
    );
    Deno.exit(2);
  }
  const { dir, variant, samples } = JSON.parse(Deno.args[i + 1]);
  console.log(JSON.stringify(await probe(dir, variant, samples)));
}
