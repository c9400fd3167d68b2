/**
 * Scenario `semantic_search`: the semantic cache's index at 100,000 entries in one partition
 * (its worst case), in process.
 *
 * - Search p50/p99 of the index as built (`src/semantic/vector_index.ts`: a binary sign-code
 *   scan, in WebAssembly, then an int8 re-rank of the 32 closest), against the alternatives it
 *   was chosen over: a flat float32 scan, a flat int8 scan, and the binary scan in JavaScript.
 * - Recall: for queries near a stored vector (cosine about 0.9), how often the index returns the
 *   exact float scan's best, and the largest similarity error of the int8 re-rank.
 * - The whole L1b lookup: embed the question with the model-free embedder, extract its gate
 *   features, search 100,000 stored questions and run the gates.
 *
 * Vectors are 384-dimensional (MiniLM's size) and clustered around a common direction, as
 * sentence embeddings are, not uniform on the sphere. Target: index search p50 at most 1 ms.
 *
 * @module
 */

import { hashEmbed } from "../../src/embed/fallback.ts";
import { gateFeatures } from "../../src/semantic/lexical_gates.ts";
import { SemanticIndex } from "../../src/semantic/semantic_index.ts";
import { VectorIndex } from "../../src/semantic/vector_index.ts";
import { fmt } from "../format.ts";
import { checkTarget, round, type SampleSummary, summarize } from "../stats.ts";
import type { ScenarioContext, ScenarioResult, Table } from "../types.ts";
import { seededRandom } from "../../tests/support/seeded_random.ts";

/** Scenario id. */
export const name = "semantic_search";

/** What the scenario measures. */
export const description =
  "semantic index search at 100k x 384 (binary+int8 vs flat float32/int8) and the L1b lookup";

const DIMS = 384;

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** `n` unit vectors in 1,000 clusters around a shared direction (anisotropic, like embeddings). */
function clusteredVectors(n: number, rand: () => number): Float32Array[] {
  const common = unit(Float32Array.from({ length: DIMS }, () => gaussian(rand)));
  const centers = Array.from(
    { length: 1000 },
    () => unit(Float32Array.from({ length: DIMS }, () => gaussian(rand))),
  );
  return Array.from({ length: n }, () => {
    const c = centers[Math.floor(rand() * centers.length)];
    return unit(Float32Array.from(
      { length: DIMS },
      (_, i) => 0.6 * common[i] + 0.6 * c[i] + 0.55 * gaussian(rand) / Math.sqrt(DIMS),
    ));
  });
}

/** A query at cosine about 0.9 from `v`. */
function near(v: Float32Array, rand: () => number): Float32Array {
  return unit(v.map((x) => x + 0.5 * gaussian(rand) / Math.sqrt(DIMS)));
}

function time(samples: number, warmup: number, f: (i: number) => void): SampleSummary {
  for (let i = 0; i < warmup; i++) f(i);
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    f(warmup + i);
    ms.push(performance.now() - t0);
  }
  return summarize(ms);
}

function flatFloat(base: Float32Array, n: number, q: Float32Array): number {
  let best = -2, at = -1;
  for (let i = 0, o = 0; i < n; i++, o += DIMS) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < DIMS; j += 4) {
      s0 += q[j] * base[o + j];
      s1 += q[j + 1] * base[o + j + 1];
      s2 += q[j + 2] * base[o + j + 2];
      s3 += q[j + 3] * base[o + j + 3];
    }
    const s = s0 + s1 + s2 + s3;
    if (s > best) [best, at] = [s, i];
  }
  return at;
}

function flatInt8(base: Int8Array, n: number, q: Int8Array): number {
  let best = -Infinity, at = -1;
  for (let i = 0, o = 0; i < n; i++, o += DIMS) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < DIMS; j += 4) {
      s0 += q[j] * base[o + j];
      s1 += q[j + 1] * base[o + j + 1];
      s2 += q[j + 2] * base[o + j + 2];
      s3 += q[j + 3] * base[o + j + 3];
    }
    const s = s0 + s1 + s2 + s3;
    if (s > best) [best, at] = [s, i];
  }
  return at;
}

const WORDS = (
  "account billing password invoice refund export import api key team plan upgrade downgrade " +
  "cancel subscription data privacy security login sso slack webhook report dashboard mobile " +
  "app order shipping delivery return discount tax currency language support email phone " +
  "feature workflow limit storage backup restore delete profile settings notification"
).split(" ");
const STARTS = [
  "How do I",
  "Can I",
  "Why does my",
  "What is the",
  "Where can I find the",
  "Is there a",
];

function question(rand: () => number): string {
  const w = () => WORDS[Math.floor(rand() * WORDS.length)];
  const start = STARTS[Math.floor(rand() * STARTS.length)];
  return `${start} ${w()} ${w()} ${w()} for my ${w()} ${Math.floor(rand() * 50)}?`;
}

/** Runs the scenario. */
export function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 20_000 : 100_000;
  const samples = ctx.quick ? 100 : 400;
  const rand = seededRandom(42);
  ctx.log(`building ${n} clustered vectors of ${DIMS} dims`);
  const vectors = clusteredVectors(n, rand);
  const flat = new Float32Array(n * DIMS);
  const flat8 = new Int8Array(n * DIMS);
  vectors.forEach((v, i) => {
    flat.set(v, i * DIMS);
    for (let j = 0; j < DIMS; j++) flat8[i * DIMS + j] = Math.round(v[j] * 127 / 0.35);
  });
  const queries = Array.from({ length: 64 }, () => near(vectors[Math.floor(rand() * n)], rand));
  const q8 = queries.map((q) => Int8Array.from(q, (x) => Math.round(x * 127 / 0.35)));

  ctx.log("building the indexes");
  const t0 = performance.now();
  const index = new VectorIndex(DIMS);
  vectors.forEach((v, i) => index.add(i, v));
  const addUs = (performance.now() - t0) * 1000 / n;
  const jsIndex = new VectorIndex(DIMS, { wasmFrom: Infinity });
  vectors.forEach((v, i) => jsIndex.add(i, v));

  ctx.log("timing searches");
  const q = (i: number) => queries[i % queries.length];
  const flatFloatStats = time(ctx.quick ? 10 : 30, 3, (i) => flatFloat(flat, n, q(i)));
  const flatInt8Stats = time(ctx.quick ? 10 : 30, 3, (i) => flatInt8(flat8, n, q8[i % q8.length]));
  const jsStats = time(samples, 20, (i) => jsIndex.search(q(i), 8, 0.5));
  const indexStats = time(samples, 50, (i) => index.search(q(i), 8, 0.5));

  let agree = 0, maxError = 0;
  for (const query of queries) {
    const exact = flatFloat(flat, n, query);
    const [hit] = index.search(query, 1);
    if (hit?.handle === exact) agree++;
    let dot = 0;
    for (let j = 0; j < DIMS; j++) dot += query[j] * vectors[exact][j];
    if (hit) maxError = Math.max(maxError, Math.abs(hit.similarity - dot));
  }

  ctx.log(`embedding ${n} questions for the L1b lookup`);
  const semantic = new SemanticIndex({
    dims: DIMS,
    maxEntries: n + 1,
    maxEntriesPerPartition: n + 1,
    ttlMs: 86_400_000,
  });
  const ref = { tenant: "bench", provider: "bench", digest: "bench" };
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = question(rand);
    texts.push(text);
    semantic.add(
      ref,
      { id: String(i), text, features: gateFeatures(text), createdAt: Date.now() },
      hashEmbed(text),
    );
  }
  let hits = 0;
  const lookupStats = time(samples, 50, (i) => {
    const text = `${texts[(i * 7919) % texts.length].toLowerCase()}`;
    if (semantic.lookup(ref, hashEmbed(text), 0.9, gateFeatures(text)).match) hits++;
  });

  const data = {
    entries: n,
    dims: DIMS,
    index: {
      scan: index.accelerated ? "binary sign codes, WebAssembly popcount" : "binary, JavaScript",
      rerank: "int8, 32 candidates",
      search: indexStats,
      add_us_per_entry: round(addUs, 2),
      bytes_per_entry: DIMS / 8 + DIMS + 4 + 2 + 4,
      recall_at_1: round(agree / queries.length, 3),
      max_similarity_error: round(maxError, 4),
    },
    binary_js_search: jsStats,
    flat_float32_search: flatFloatStats,
    flat_int8_search: flatInt8Stats,
    l1b_lookup: { ...lookupStats, hit_share: round(hits / (samples + 50), 3) },
  };
  const row = (label: string, s: SampleSummary): string[] => [
    label,
    fmt(s.p50_ms),
    fmt(s.p99_ms),
  ];
  const tables: Table[] = [{
    title: `Search at ${n} x ${DIMS} (one partition), ms`,
    columns: ["method", "p50", "p99"],
    rows: [
      row(`index: binary ${index.accelerated ? "WASM" : "JS"} + int8 re-rank`, indexStats),
      row("binary JS scan + int8 re-rank", jsStats),
      row("flat float32 scan", flatFloatStats),
      row("flat int8 scan", flatInt8Stats),
      row("L1b lookup (embed none + gates + search)", lookupStats),
    ],
  }];
  const notes = [
    `index recall@1 vs exact float scan (queries at cosine ~0.9): ${data.index.recall_at_1}; ` +
    `largest similarity error ${data.index.max_similarity_error}`,
    `add: ${data.index.add_us_per_entry} us per entry; about ${data.index.bytes_per_entry} bytes per entry in the index`,
  ];
  return Promise.resolve({
    data,
    targets: {
      search_p50_100k: checkTarget(
        `index search p50 at ${n} entries`,
        round(indexStats.p50_ms, 4),
        "ms",
        "<=",
        1,
      ),
    },
    tables,
    notes,
  });
}
