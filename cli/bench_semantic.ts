/**
 * `isartor bench semantic`: calibrates the semantic cache's threshold on
 * labelled question pairs (src/semantic/calibration.ts), with the embedder
 * the gateway would use or the one named.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { modelEnv } from "./up.ts";
import {
  configuredBackend,
  EMBEDDING_BACKENDS,
  isEmbeddingBackend,
  loadEmbedder,
} from "../src/embed/build.ts";
import {
  curve,
  type LabelledPair,
  lookupPairs,
  type PairLookup,
  parsePairs,
  type Rates,
  ratesAt,
  suggestThreshold,
} from "../src/semantic/calibration.ts";
import { similarityThreshold } from "../src/semantic/threshold.ts";
import { benignFeatures, benignVerdict } from "../src/semantic/benign_diff.ts";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { startSpinner } from "./spinner.ts";

/** Help for `isartor bench semantic`. */
export const usage =
  `isartor bench semantic --pairs FILE [--embedder minilm|remote|none] [--threshold T] [--json] [--explain]

Stores each pair's "a" in the semantic index (a partition of its own, as a
fresh conversation) and looks up its "b" as the L1b layer does: cosine, then
the lexical gates and the benign-difference check. Prints the pairs, the hit
rate on duplicates, the false-hit rate on non-duplicates (hits there are wrong
answers), the precision, the threshold and the embedder, plus the same without
the gates and the curve.

FILE is JSON lines of {"a": "...", "b": "...", "duplicate": true|false}
(QQP), or a JSON array of {"origin": "...", "similar": "..."} (GPTCache's mock
data, every pair a duplicate).

Options:
  --pairs FILE      the labelled pairs (required)
  --embedder NAME   ${EMBEDDING_BACKENDS.join(", ")} (default: the configured one)
  --threshold T     the similarity a hit needs (default: similarity_threshold, "auto"
                    picks the embedder's calibrated default)
  --json            machine-readable results, with the whole curve (0.50 to 1.00)
  --explain         first, one block per pair: label, similarity, HIT or MISS and
                    why, the words only one side has, and the rule that accepted or
                    rejected each (with --json: an "explain" array)

Examples:
  isartor bench semantic --pairs ../shared/workloads/qqp_dev.jsonl
  isartor bench semantic --pairs ../shared/workloads/qqp_dev.jsonl --embedder minilm --json
  isartor bench semantic --pairs bench/data/l1b_pairs.jsonl --embedder none --explain`;

const pct = (r: number | null, digits = 1) => (r === null ? "-" : `${(r * 100).toFixed(digits)}%`);

function summary(r: Rates) {
  return {
    hits: r.hits,
    correct_hits: r.correct_hits,
    false_hits: r.false_hits,
    hit_rate: r.hit_rate,
    false_hit_rate: r.false_hit_rate,
    precision: r.precision,
  };
}

/** Runs `isartor bench semantic`. */
export async function runBenchSemantic(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      pairs: { type: "string" },
      embedder: { type: "string" },
      threshold: { type: "string" },
      json: { type: "boolean" },
      explain: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  if (!values.pairs) throw new UsageError("--pairs FILE is required");
  const { config } = loadCliConfig({}, { warn: io.err });
  const backend = values.embedder ?? configuredBackend(config);
  if (!isEmbeddingBackend(backend)) {
    throw new UsageError(`--embedder must be one of ${EMBEDDING_BACKENDS.join(", ")}`);
  }
  let threshold: number | null = null;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (!(threshold > 0 && threshold <= 1)) {
      throw new UsageError(`--threshold must be above 0 and at most 1, got "${values.threshold}"`);
    }
  }
  let text: string;
  try {
    text = await Deno.readTextFile(values.pairs);
  } catch (e) {
    throw new Error(`cannot read ${values.pairs}: ${(e as Error).message}`);
  }
  const pairs = parsePairs(text);
  if (pairs.length === 0) throw new Error(`${values.pairs} has no pairs`);
  // The real backend (MiniLM loads its model; remote connects), or one line on why not.
  const loaded = await loadEmbedder(config, { backend, env: modelEnv(), download: false });
  if (loaded.notice) io.err(`isartor bench semantic: warning: ${loaded.notice}`);
  const embedder = loaded.embedder;
  const spinner = values.json ? null : startSpinner(io, `embedding ${pairs.length * 2} texts...`);
  let result;
  try {
    result = await lookupPairs(pairs, embedder);
  } finally {
    spinner?.stop();
    await embedder.close();
  }
  const t = threshold ?? similarityThreshold(config, embedder);
  const points = curve(result.lookups);
  const gated = ratesAt(result.lookups, t, true);
  const ungated = ratesAt(result.lookups, t, false);
  const duplicates = pairs.filter((p) => p.duplicate).length;
  const report = {
    file: values.pairs,
    pairs: pairs.length,
    duplicates,
    non_duplicates: pairs.length - duplicates,
    embedder: embedder.name,
    model: embedder.model,
    dims: embedder.dims,
    embed_ms_per_text: Math.round(result.embedMsPerText * 1000) / 1000,
    threshold: t,
    gates: true,
    ...summary(gated),
    without_gates: summary(ungated),
    suggested_threshold: suggestThreshold(points, 0.01),
    curve: points,
    ...(values.explain ? { explain: explainPairs(pairs, result.lookups, t) } : {}),
  };
  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
    return EXIT.ok;
  }
  if (report.explain) {
    for (const e of report.explain) {
      io.out(
        `${e.duplicate ? "dup" : "non"}  ${e.similarity?.toFixed(4) ?? "-"}  ${
          e.hit ? "HIT" : `MISS (${e.why})`
        }`,
      );
      io.out(`  a: ${e.a}`);
      io.out(`  b: ${e.b}`);
      io.out(`  only in a: ${e.only_a.join(" ") || "-"}; only in b: ${e.only_b.join(" ") || "-"}`);
      for (const n of e.rules) io.out(`    ${n}`);
    }
    io.out("");
  }
  const row = (k: string, v: string) => io.out(`  ${k.padEnd(28)} ${v}`);
  io.out(style(io, `isartor bench semantic: ${values.pairs}`, "bold"));
  row(
    "pairs",
    `${pairs.length} (${duplicates} duplicates, ${report.non_duplicates} non-duplicates)`,
  );
  row(
    "embedder",
    `${embedder.name} (${embedder.model}, ${embedder.dims} dims), ${report.embed_ms_per_text} ms per text`,
  );
  row("threshold", `${t}${threshold === null ? " (similarity_threshold)" : ""}`);
  row("hit rate on duplicates", `${pct(gated.hit_rate)} (${gated.correct_hits}/${duplicates})`);
  row(
    "false-hit rate (non-dups)",
    `${pct(gated.false_hit_rate, 2)} (${gated.false_hits}/${report.non_duplicates})`,
  );
  row("precision", pct(gated.precision));
  row(
    "without the lexical gates",
    `hit rate ${pct(ungated.hit_rate)}, false-hit rate ${
      pct(ungated.false_hit_rate, 2)
    }, precision ${pct(ungated.precision)}`,
  );
  if (report.suggested_threshold !== null) {
    row("false hits <= 1% from", String(report.suggested_threshold));
  }
  io.out("");
  io.out(style(io, "Curve (lexical gates on | off)", "bold"));
  io.out("  THRESHOLD  HIT RATE  FALSE HITS  PRECISION | HIT RATE  FALSE HITS  PRECISION");
  const shown = points.filter((p) =>
    Math.round(p.threshold * 100) % 5 === 0 || p.threshold === t || p.threshold === 0.99
  );
  for (const p of shown) {
    const cells = (r: Rates) =>
      `${pct(r.hit_rate).padStart(8)}  ${pct(r.false_hit_rate, 2).padStart(10)}  ${
        pct(r.precision).padStart(9)
      }`;
    io.out(`  ${p.threshold.toFixed(2).padEnd(9)}  ${cells(p.gates)} | ${cells(p.no_gates)}`);
  }
  return EXIT.ok;
}

/** Per pair: the verdict at `threshold`, the differing words and the rules that decided. */
function explainPairs(pairs: LabelledPair[], lookups: PairLookup[], threshold: number) {
  return pairs.map((p, i) => {
    const l = lookups[i];
    const v = benignVerdict(benignFeatures(p.a), benignFeatures(p.b), true);
    const below = l.similarity === null || l.similarity < threshold;
    const why = below ? `similarity under ${threshold}` : l.reason;
    const rules = l.reason && l.reason !== v.reason
      ? [`${l.reason}: an exact-match gate (numbers, operators, negations, opposites, mentions)`]
      : [];
    return {
      a: p.a,
      b: p.b,
      duplicate: p.duplicate,
      similarity: l.similarity,
      hit: !below && l.reason === null,
      why,
      only_a: v.onlyA,
      only_b: v.onlyB,
      rules: [...rules, ...v.notes],
    };
  });
}
