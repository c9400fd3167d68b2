/**
 * Scenario `benign_check`: L1b's benign-difference check (src/semantic/benign_diff.ts), its
 * cost, its memory and what it lets through.
 *
 * - Cost: the time the check adds to one lookup of a 60-word turn: the query's features
 *   (normalising, stemming) plus the comparison with the candidate above the threshold (a
 *   one-word change, so the WordNet pairing runs). Each sample's turn carries one new word, so
 *   the stem cache is warm only as in a running gateway.
 * - Memory: RSS added by loading the WordNet synonym table, in a fresh subprocess.
 * - Outcomes on labelled pairs, at each embedder's default threshold, with the model-free
 *   embedder (`none`) and the tiny random test BERT (tests/support/tiny_bert.ts, standing in
 *   for any embedder that ranks badly): bench/data/l1b_pairs.jsonl (one-change non-duplicates
 *   and paraphrases) and, when present, QQP dev (../shared/workloads/qqp_dev.jsonl).
 *
 * Targets: check p50 at most 0.2 ms, table at most 40 MiB, 0 false hits on the one-change set
 * and at most 0.5% false hits on QQP dev, for both embedders.
 *
 * @module
 */

import { FallbackEmbedder } from "../../src/embed/fallback.ts";
import { loadMiniLm } from "../../src/embed/minilm.ts";
import type { Embedder } from "../../src/embed/embedder.ts";
import { benignFeatures, benignMismatch } from "../../src/semantic/benign_diff.ts";
import { loadSynonyms } from "../../src/semantic/synonyms.ts";
import { lookupPairs, parsePairs, ratesAt } from "../../src/semantic/calibration.ts";
import { DEFAULT_THRESHOLDS } from "../../src/semantic/threshold.ts";
import { writeTinyBert } from "../../tests/support/tiny_bert.ts";
import { fmt } from "../format.ts";
import { checkTarget, round, summarize } from "../stats.ts";
import type { ScenarioContext, ScenarioResult, Table, TargetCheck } from "../types.ts";

/** Scenario id. */
export const name = "benign_check";

/** What the scenario measures. */
export const description =
  "L1b benign-difference check: added cost (60 words), WordNet table RSS, false hits by set";

/** A 60-word agent-style turn and its one-word variant. */
const TURN =
  "I'm working on a project and we have a Node service behind nginx that calls a payments API. " +
  "When the upstream is slow, requests pile up and the workers run out of memory. Please set " +
  "the request timeout to thirty seconds, add a retry with exponential backoff and jitter, keep " +
  "the existing structured logging, and explain how to test the new behaviour with a mock server";
const VARIANT = TURN.replace("thirty seconds", "thirty minutes");

async function rssProbe(): Promise<number> {
  const rss0 = Deno.memoryUsage().rss;
  const { loadSynonyms: load } = await import("../../src/semantic/synonyms.ts");
  const t = load();
  const rss1 = Deno.memoryUsage().rss;
  if (t.size === 0) throw new Error("empty synonym table");
  return (rss1 - rss0) / 2 ** 20;
}

/** Runs this file as `--probe-rss` in a fresh process: the table's RSS alone. */
async function measureRss(): Promise<{ mib: number; load_ms: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", new URL(import.meta.url).pathname, "--probe-rss"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

interface SetResult {
  set: string;
  embedder: string;
  threshold: number;
  pairs: number;
  hit_rate: number | null;
  false_hits: number;
  false_hit_rate: number | null;
}

async function runSet(
  set: string,
  file: string,
  embedder: Embedder,
  threshold: number,
): Promise<SetResult[]> {
  const pairs = parsePairs(await Deno.readTextFile(file));
  const { lookups } = await lookupPairs(pairs, embedder);
  const r = ratesAt(lookups, threshold, true);
  return [{
    set,
    embedder: embedder.name === "none" ? "none" : "tiny-bert",
    threshold,
    pairs: pairs.length,
    hit_rate: r.hit_rate === null ? null : round(r.hit_rate, 4),
    false_hits: r.false_hits,
    false_hit_rate: r.false_hit_rate === null ? null : round(r.false_hit_rate, 4),
  }];
}

/** Runs the scenario. */
export async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const t0 = performance.now();
  loadSynonyms();
  const loadMs = performance.now() - t0;
  const stored = benignFeatures(VARIANT);
  const samples = ctx.quick ? 500 : 5000;
  const times: number[] = [];
  for (let i = 0; i < samples + 200; i++) {
    const text = `${TURN} ref${i}`;
    const s = performance.now();
    const f = benignFeatures(text);
    if (benignMismatch(f, stored) === null) throw new Error("the variant must be rejected");
    const e = performance.now() - s;
    if (i >= 200) times.push(e);
  }
  const cost = summarize(times);
  const rss = await measureRss();

  const own = `${ctx.repoRoot}/bench/data/l1b_pairs.jsonl`;
  const qqp = `${ctx.repoRoot}/../shared/workloads/qqp_dev.jsonl`;
  const hasQqp = await Deno.stat(qqp).then(() => true, () => false);
  const results: SetResult[] = [];
  const none = new FallbackEmbedder();
  ctx.log("benign_check: labelled sets with the none embedder");
  results.push(...await runSet("own", own, none, DEFAULT_THRESHOLDS.none));
  if (hasQqp && !ctx.quick) {
    results.push(...await runSet("qqp", qqp, none, DEFAULT_THRESHOLDS.none));
  }
  ctx.log("benign_check: labelled sets with the tiny test BERT");
  const model = await writeTinyBert(`${ctx.scratchDir}/benign-tiny-bert`);
  const tiny = await loadMiniLm(model.dir, { dtype: "fp32", threads: 1, warmupRuns: 0 });
  try {
    results.push(...await runSet("own", own, tiny, DEFAULT_THRESHOLDS.minilm));
    if (hasQqp && !ctx.quick) {
      results.push(...await runSet("qqp", qqp, tiny, DEFAULT_THRESHOLDS.minilm));
    }
  } finally {
    await tiny.close();
  }

  const targets: Record<string, TargetCheck> = {
    benign_check_p50_60_words: checkTarget(
      "benign check added to a 60-word lookup, p50",
      round(cost.p50_ms, 4),
      "ms",
      "<=",
      0.2,
    ),
    benign_table_rss: checkTarget("WordNet table RSS", round(rss.mib, 1), "MiB", "<=", 40),
  };
  for (const r of results) {
    const id = `false_hits_${r.set}_${r.embedder.replace("-", "_")}`;
    targets[id] = r.set === "own"
      ? checkTarget(`false hits, one-change set, ${r.embedder}`, r.false_hits, "pairs", "<=", 0)
      : checkTarget(
        `false-hit rate, QQP dev, ${r.embedder}`,
        round((r.false_hit_rate ?? 0) * 100, 2),
        "%",
        "<=",
        0.5,
      );
  }
  const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(2)}%`);
  const tables: Table[] = [
    {
      title: "Benign-difference check",
      columns: ["measure", "value"],
      rows: [
        ["added to a 60-word lookup, p50 / p99", `${fmt(cost.p50_ms)} / ${fmt(cost.p99_ms)} ms`],
        ["WordNet table, RSS added / parse", `${rss.mib.toFixed(1)} MiB / ${rss.load_ms} ms`],
      ],
    },
    {
      title: "Labelled pairs at the default threshold (check on)",
      columns: ["set", "embedder", "threshold", "pairs", "hit rate", "false hits"],
      rows: results.map((r) => [
        r.set,
        r.embedder,
        String(r.threshold),
        String(r.pairs),
        pct(r.hit_rate),
        `${r.false_hits} (${pct(r.false_hit_rate)})`,
      ]),
    },
  ];
  return {
    data: {
      check_60_words: cost,
      table_rss_mib: round(rss.mib, 1),
      table_parse_ms: rss.load_ms,
      table_parse_ms_in_run: round(loadMs, 1),
      sets: results,
    },
    targets,
    tables,
    notes: hasQqp ? [] : ["QQP dev not found next to the repository: skipped"],
  };
}

if (import.meta.main && Deno.args.includes("--probe-rss")) {
  const t0 = performance.now();
  const mib = await rssProbe();
  console.log(JSON.stringify({ mib, load_ms: Math.round(performance.now() - t0) }));
}
