/**
 * Threshold calibration on labelled question pairs, as `isartor bench
 * semantic` runs it: each pair's `a` is stored in a semantic index, in a
 * partition of its own (as if each pair were its own conversation), and its
 * `b` is looked up there exactly as the L1b layer looks up: cosine, then the
 * lexical gates.
 *
 * - A **hit** on a duplicate pair is correct.
 * - A hit on a non-duplicate pair is a **false hit**.
 * - **Precision** is correct hits over all hits.
 *
 * One partition per pair keeps the labels meaningful: in one shared
 * partition a `b` often meets its own text stored as another pair's `a`
 * (QQP repeats questions), a right answer the labels would count as wrong.
 *
 * One pass gives the whole curve: the similarity of each lookup is kept with
 * whether the gates passed.
 *
 * @module
 */

import type { Embedder } from "../embed/embedder.ts";
import { gateFeatures, gateMismatch } from "./lexical_gates.ts";
import { SemanticIndex } from "./semantic_index.ts";

/** One labelled pair. */
export interface LabelledPair {
  a: string;
  b: string;
  duplicate: boolean;
}

/**
 * Reads pairs: JSON lines of `{"a", "b", "duplicate"}` (QQP), or a JSON array
 * of `{"origin", "similar"}` (GPTCache's mock data: every pair a duplicate).
 */
export function parsePairs(text: string): LabelledPair[] {
  const trimmed = text.trim();
  const rows: unknown[] = trimmed.startsWith("[")
    ? JSON.parse(trimmed)
    : trimmed.split("\n").filter((l) => l.trim()).map((l, i) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`line ${i + 1} is not JSON`);
      }
    });
  return rows.map((r, i) => {
    const o = r as Record<string, unknown>;
    if (typeof o.origin === "string" && typeof o.similar === "string") {
      return { a: o.origin, b: o.similar, duplicate: true };
    }
    if (typeof o.a !== "string" || typeof o.b !== "string" || typeof o.duplicate !== "boolean") {
      throw new Error(`row ${i + 1} needs "a", "b" (strings) and "duplicate" (true or false)`);
    }
    return { a: o.a, b: o.b, duplicate: o.duplicate };
  });
}

/** What the lookup of one pair's `b` found. */
export interface PairLookup {
  duplicate: boolean;
  /** The similarity of `b` to the stored `a` (null: no vector, e.g. an empty text). */
  similarity: number | null;
  /** Whether the lexical gates passed. */
  gatesPass: boolean;
  /** The gate or benign-check reason that rejected it (null: passed, or no candidate). */
  reason: string | null;
}

/** Figures at one threshold. */
export interface Rates {
  hits: number;
  correct_hits: number;
  false_hits: number;
  /** Hits on duplicate pairs / duplicate pairs. */
  hit_rate: number | null;
  /** Hits on non-duplicate pairs / non-duplicate pairs. */
  false_hit_rate: number | null;
  /** Correct hits / all hits. */
  precision: number | null;
}

/** One point of the curve. */
export interface CurvePoint {
  threshold: number;
  gates: Rates;
  no_gates: Rates;
}

async function embedAll(embedder: Embedder, texts: string[], batch = 64): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += batch) {
    out.push(...await embedder.embed(texts.slice(i, i + batch)));
  }
  return out;
}

/** Stores each `a`, looks up its `b`; the raw outcomes (see {@linkcode ratesAt}). */
export async function lookupPairs(
  pairs: LabelledPair[],
  embedder: Embedder,
): Promise<{ lookups: PairLookup[]; embedMsPerText: number }> {
  const index = new SemanticIndex({
    dims: embedder.dims,
    maxEntries: pairs.length + 1,
    maxEntriesPerPartition: 1,
    ttlMs: Number.MAX_SAFE_INTEGER / 2,
  });
  const t0 = performance.now();
  const aVecs = await embedAll(embedder, pairs.map((p) => p.a));
  const bVecs = await embedAll(embedder, pairs.map((p) => p.b));
  const embedMsPerText = (performance.now() - t0) / (2 * Math.max(1, pairs.length));
  const refOf = (i: number) => ({ tenant: "bench", provider: "bench", digest: String(i) });
  pairs.forEach((p, i) => {
    const fields = { id: String(i), text: p.a, features: gateFeatures(p.a), createdAt: 0 };
    index.add(refOf(i), fields, aVecs[i]);
  });
  const lookups = pairs.map((p, i): PairLookup => {
    const [found] = index.candidates(refOf(i), bVecs[i], 1, -1);
    const reason = found ? gateMismatch(gateFeatures(p.b), found.entry.features) : null;
    return {
      duplicate: p.duplicate,
      similarity: found?.similarity ?? null,
      gatesPass: found !== undefined && reason === null,
      reason,
    };
  });
  return { lookups, embedMsPerText };
}

const ratio = (n: number, d: number) => (d === 0 ? null : n / d);

/** The rates at one threshold, with or without the gates. */
export function ratesAt(lookups: PairLookup[], threshold: number, gates: boolean): Rates {
  let correct = 0, falseHits = 0, dups = 0, nonDups = 0;
  for (const l of lookups) {
    if (l.duplicate) dups++;
    else nonDups++;
    const hit = l.similarity !== null && l.similarity >= threshold && (!gates || l.gatesPass);
    if (!hit) continue;
    if (l.duplicate) correct++;
    else falseHits++;
  }
  return {
    hits: correct + falseHits,
    correct_hits: correct,
    false_hits: falseHits,
    hit_rate: ratio(correct, dups),
    false_hit_rate: ratio(falseHits, nonDups),
    precision: ratio(correct, correct + falseHits),
  };
}

/** The curve over thresholds from `from` to 1 in `step`s (two decimals). */
export function curve(lookups: PairLookup[], from = 0.5, step = 0.01): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (let i = 0;; i++) {
    const threshold = Math.round((from + i * step) * 10_000) / 10_000;
    if (threshold > 1) break;
    out.push({
      threshold,
      gates: ratesAt(lookups, threshold, true),
      no_gates: ratesAt(lookups, threshold, false),
    });
  }
  return out;
}

/**
 * The lowest threshold of the curve whose false-hit rate (gates on) is at or
 * under `maxFalseHitRate`, or null when there are no non-duplicate pairs.
 */
export function suggestThreshold(points: CurvePoint[], maxFalseHitRate = 0.01): number | null {
  for (const p of points) {
    if (p.gates.false_hit_rate === null) return null;
    if (p.gates.false_hit_rate <= maxFalseHitRate) return p.threshold;
  }
  return null;
}
