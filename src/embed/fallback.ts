/**
 * The model-free embedder (backend `"none"`): a deterministic near-duplicate
 * matcher for when no embedding model is present and none may be downloaded,
 * so the semantic cache is never a silent no-op.
 *
 * Text is normalized (Unicode NFKC, lower case, contractions expanded,
 * punctuation dropped, a light suffix stemmer, a few stop words left out),
 * then word unigrams, word bigrams and character trigrams are hashed with a
 * random sign into {@linkcode FALLBACK_DIMS} dimensions (feature hashing) and
 * the vector is L2-normalized. Two texts score high only when they share most
 * of their words: rewordings with the same content words match, real
 * paraphrases with other words mostly do not. Its threshold is calibrated on
 * its own (docs/semantic-cache.md).
 *
 * @module
 */

import type { Embedder } from "./embedder.ts";

/** Vector length of the fallback embedder (the same as MiniLM-L6's, so index costs compare). */
export const FALLBACK_DIMS = 384;

/** The fallback's model id; change it when the features change (old vectors then stop matching). */
export const FALLBACK_MODEL = "isartor-hash-v1";

const CONTRACTIONS: ReadonlyArray<[RegExp, string]> = [
  [/\bcan['’]t\b/g, "can not"],
  [/\bcannot\b/g, "can not"],
  [/\bwon['’]t\b/g, "will not"],
  [/\bshan['’]t\b/g, "shall not"],
  [/n['’]t\b/g, " not"],
  [/['’]re\b/g, " are"],
  [/['’]m\b/g, " am"],
  [/['’]ll\b/g, " will"],
  [/['’]ve\b/g, " have"],
  [/['’]d\b/g, " would"],
  [/['’]s\b/g, ""],
];

/**
 * Lower-cased NFKC text with contractions expanded (`don't` → `do not`), so
 * spelling variants of one question normalize alike.
 *
 * @example
 * ```ts
 * normalizeText("Don’t ＳＨＯＵＴ"); // "do not shout"
 * ```
 */
export function normalizeText(text: string): string {
  let t = text.normalize("NFKC").toLowerCase();
  for (const [re, to] of CONTRACTIONS) t = t.replace(re, to);
  return t.replace(/\s+/g, " ").trim();
}

/**
 * The word tokens of a text after {@linkcode normalizeText}: letters and
 * digits (a trailing `+` or `#` stays, for `c++` and `c#`).
 *
 * @example
 * ```ts
 * wordTokens("How do I use C++?"); // ["how", "do", "i", "use", "c++"]
 * ```
 */
export function wordTokens(text: string): string[] {
  return normalizeText(text).match(/[\p{L}\p{N}]+[+#]*/gu) ?? [];
}

/** Function words that rarely change what is asked. Negations are never here. */
const STOP_WORDS: ReadonlySet<string> = new Set(
  ("a an the is are was were be been being am do does did to of in at by for from with as " +
    "into about and or so just very really please kindly some any").split(" "),
);

/**
 * A light suffix stemmer: `installing`, `installed`, `installs` → `install`.
 * Crude on purpose: it only has to make variants of one word collide.
 */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  if (word.endsWith("ies") && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith("sses")) return word.slice(0, -2);
  if (word.endsWith("ing") && word.length > 5) return undouble(word.slice(0, -3));
  if (word.endsWith("ed") && word.length > 4) return undouble(word.slice(0, -2));
  if (word.endsWith("es") && /(?:sh|ch|x|z|ss)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith("s") && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function undouble(w: string): string {
  return /([b-df-hj-np-tv-z])\1$/.test(w) && !/(?:ll|ss|zz)$/.test(w) ? w.slice(0, -1) : w;
}

/** FNV-1a, 32 bits, over UTF-16 code units, with a seed per feature family. */
function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche so nearby strings spread over all dimensions.
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

const WEIGHT_UNIGRAM = 1.0;
const WEIGHT_BIGRAM = 0.6;
/** The norm of one word's character trigrams together. */
const WEIGHT_CHARS = 0.5;

/**
 * The feature-hashed vector of one text, L2-normalized (all zeros for a text
 * without a letter or digit).
 */
export function hashEmbed(text: string, dims: number = FALLBACK_DIMS): Float32Array {
  const v = new Float32Array(dims);
  const add = (feature: string, seed: number, weight: number) => {
    const h = fnv1a(feature, seed);
    v[h % dims] += (h & 0x80000000) ? -weight : weight;
  };
  const words = wordTokens(text);
  let content = words.filter((w) => !STOP_WORDS.has(w));
  if (content.length === 0) content = words;
  const stems = content.map(stem);
  for (const s of stems) add(s, 1, WEIGHT_UNIGRAM);
  for (let i = 1; i < stems.length; i++) add(`${stems[i - 1]} ${stems[i]}`, 2, WEIGHT_BIGRAM);
  for (const w of content) {
    const padded = `^${w}$`;
    const n = padded.length - 2;
    if (n < 1) continue;
    const weight = WEIGHT_CHARS / Math.sqrt(n);
    for (let i = 0; i < n; i++) add(padded.slice(i, i + 3), 3, weight);
  }
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += v[i] * v[i];
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < dims; i++) v[i] *= inv;
  }
  return v;
}

/**
 * The model-free embedder.
 *
 * @example
 * ```ts
 * const e = new FallbackEmbedder();
 * const [a, b] = await e.embed(["How do I reset my password?", "how to reset my password"]);
 * let cos = 0;
 * for (let i = 0; i < a.length; i++) cos += a[i] * b[i];
 * cos > 0.8; // true: same content words
 * ```
 */
export class FallbackEmbedder implements Embedder {
  readonly name = "none";
  readonly model = FALLBACK_MODEL;
  readonly dims = FALLBACK_DIMS;

  embed(texts: string[]): Promise<Float32Array[]> {
    return Promise.resolve(texts.map((t) => hashEmbed(t, this.dims)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
