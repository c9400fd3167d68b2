/**
 * The benign-difference check: a semantic candidate is a hit only when every
 * difference between the two last turns is known to be benign. Nothing else
 * passes: an unknown word, a co-hyponym (seconds / minutes, python / rust), an
 * antonym, a negative prefix (sorted / unsorted) or a word of a list nobody
 * wrote down is a miss.
 *
 * Both texts are normalised (NFKC, case, punctuation, whitespace,
 * contractions), filler phrases go ("could you please", "I'm working on a
 * project and", "thanks in advance") and question openers take one form ("how
 * to", "how can I", "what is the best way to" → "how do i"). The words left
 * are function words (dropped: "the", "a", "is", "my"…) and content words.
 * Then:
 *
 * - content words match when equal, or equal after a stemmer
 *   (`wink-porter2-stemmer`, Porter2 / Snowball English) **and** related by an
 *   inflection that does not change what is asked (`-ed`, `-ing`): "sorting" =
 *   "sorted"; a plural against a singular (`user` / `users`) is a difference
 *   that matters ("plural"); a derivation with the same stem is a different
 *   word;
 * - every content word of one text that the other lacks must pair with one
 *   the other text has in its place, by one WordNet 3.1 synset
 *   (src/semantic/wordnet/synonym_table.ts: antonyms, co-hyponyms, hypernyms
 *   and computing terms never pair), else "word";
 * - the content words both texts share (pairs counting as one) come in the
 *   same order, else "order" ("from A to B" never matches "from B to A").
 *
 * Numbers, identifiers, paths, quoted strings and code stay with their own
 * exact-match gates (src/semantic/lexical_gates.ts).
 *
 * @module
 */

import porter2 from "wink-porter2-stemmer";
import { normalizeText } from "../embed/fallback.ts";
import { hasSynonyms, pairs } from "./synonyms.ts";

/** What the check compares, extracted once per text. */
export interface BenignFeatures {
  /** Content words in order (after filler removal, function words dropped). */
  words: string[];
  /** Their stems, same order. */
  stems: string[];
}

/** A verdict with the reasoning, for `isartor bench semantic --explain`. */
export interface BenignVerdict {
  /** Null when every difference is benign; else `"plural"`, `"word"` or `"order"`. */
  reason: string | null;
  /** Content words only the first text has, and only the second. */
  onlyA: string[];
  onlyB: string[];
  /** One note per differing word: the rule that accepted or rejected it. */
  notes: string[];
}

/**
 * Words that never change what is asked: articles, the asker (and "you", the asked),
 * auxiliaries, politeness. Not here: negations, quantifiers, modals other than
 * "do", prepositions, question words, tense (`was`, `did`).
 */
const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  ("a an the this please pls plz kindly thanks thank thx hi hello hey i me my mine myself we us " +
    "our ours you it its is are am be been being do does doing that so just actually basically " +
    "really ever ok okay um uh").split(" "),
);

/** Phrases that frame a question without changing it; replaced by a space. */
const FILLERS: readonly RegExp[] = [
  /\b(?:hi|hello|hey|greetings)(?: there| all| everyone| team| folks)?\b/g,
  /\b(?:thanks|thank you|thx)(?: (?:so|very) much| a lot| a ton| in advance| for (?:your|the|any) help| for helping)?\b/g,
  /\b(?:can|could|would|will) you(?: please| kindly)*(?: (?:help|assist) me)?(?: (?:with|to|on))?\b/g,
  /\b(?:please )?(?:help|assist) me(?: (?:with|to|on))?\b/g,
  /\b(?:tell|show) me\b/g,
  /\bi am (?:working on|building|writing|developing|doing) (?:a|an|my|our|this|some)(?: (?:side|small|new|personal|little|work|school|hobby|big|large))? (?:project|app|application|program|codebase|task|assignment)(?: (?:and|so|where))?\b/g,
  /\b(?:quick question|i was wondering(?: if| whether)?|i wonder(?: if| whether)?|if possible|for me|any ideas?|do you know)\b/g,
  /\bi (?:need|want|would like|wanted|am trying|was trying|have been trying|am looking|was looking) (?:to|for a way to)(?: (?:know|understand|figure out|find out))?\b/g,
];

/** Question openers that ask the same thing; each becomes "how do i". */
const HOW_DO_I =
  /\b(?:how (?:do|can|could|would|should|shall|might|does|to)(?: (?:i|we|you|one))?|how i (?:can|could|should|would|do)|(?:what is|what are|whats|what) (?:the|a|some)? ?(?:best |right |correct |proper |recommended |good )?(?:way|ways|method|approach) (?:to|for)|is (?:there a way|it possible) to)\b/g;

/** Words that ask the same as another in a question: "which is best" = "what is best". */
const SAME_AS: Readonly<Record<string, string>> = { which: "what", whats: "what", could: "can" };
const SAME_WORDS = /\b(?:which|whats|could)\b/g;

const STEMS = new Map<string, string>();

/** The Porter2 stem of a lower-case word, memoised (a stem costs microseconds). */
export function stemOf(w: string): string {
  let s = STEMS.get(w);
  if (s === undefined) {
    s = /\d/.test(w) || w.length <= 2 ? w : porter2(w) as string;
    // Bounded: a flood of unique words must not grow memory without end.
    if (STEMS.size > 50_000) STEMS.clear();
    STEMS.set(w, s);
  }
  return s;
}

/**
 * The benign-check features of a text.
 *
 * @example
 * ```ts
 * benignFeatures("Could you please tell me how to reverse a list in Python?").words;
 * // ["how", "reverse", "list", "in", "python"]
 * ```
 */
export function benignFeatures(text: string): BenignFeatures {
  let t = normalizeText(text);
  for (const re of FILLERS) t = t.replace(re, " ");
  t = t.replace(SAME_WORDS, (w) => SAME_AS[w]);
  t = t.replace(HOW_DO_I, " how do i ").replace(/&/g, " and ");
  const words: string[] = [];
  // "e-commerce" = "ecommerce"; numbers are the numbers gate's (it reads "30,000" as 30000).
  t = t.replace(/(\p{L})-(?=\p{L})/gu, "$1");
  for (const w of t.match(/[\p{L}\p{N}]+[+#]*/gu) ?? []) {
    if (!FUNCTION_WORDS.has(w) && !/^\p{N}+$/u.test(w)) words.push(w);
  }
  return { words, stems: words.map(stemOf) };
}

/** Bases a word may be an `-ed` / `-ing` form of (itself included). */
function verbBases(w: string): string[] {
  const out = [w];
  for (const suffix of ["ing", "ed"]) {
    if (!w.endsWith(suffix) || w.length < suffix.length + 3) continue;
    const base = w.slice(0, -suffix.length);
    out.push(base, `${base}e`);
    if (/([b-df-hj-np-tv-z])\1$/.test(base)) out.push(base.slice(0, -1));
    if (suffix === "ed" && base.endsWith("i")) out.push(`${base.slice(0, -1)}y`);
  }
  return out;
}

/** Bases a word may be an `-s` form (plural, third person) of. */
function sBases(w: string): string[] {
  const out: string[] = [];
  if (w.length < 4 || !w.endsWith("s") || /(?:ss|us|is)$/.test(w)) return out;
  out.push(w.slice(0, -1));
  if (w.endsWith("es")) out.push(w.slice(0, -2));
  if (w.endsWith("ies")) out.push(`${w.slice(0, -3)}y`);
  return out;
}

/** How two different words with one stem relate. */
function relation(a: string, b: string): "inflection" | "plural" | "derivation" {
  const ba = verbBases(a), bb = verbBases(b);
  if (ba.some((x) => bb.includes(x))) return "inflection";
  const sa = sBases(a), sb = sBases(b);
  if (sa.some((x) => bb.includes(x)) || sb.some((x) => ba.includes(x))) return "plural";
  return "derivation";
}

/** WordNet lemmas a word may be a form of, with whether that form is an `-s` form. */
function lemmas(w: string): [string, boolean][] {
  const out: [string, boolean][] = [];
  if (hasSynonyms(w)) out.push([w, false]);
  for (const b of verbBases(w).slice(1)) if (hasSynonyms(b)) out.push([b, false]);
  for (const b of sBases(w)) if (hasSynonyms(b)) out.push([b, true]);
  return out;
}

/** Whether two words share a synset (as the same form: both `-s` forms or neither). */
export function synonymous(a: string, b: string): boolean {
  for (const [la, pa] of lemmas(a)) {
    for (const [lb, pb] of lemmas(b)) if (pa === pb && pairs(la, lb)) return true;
  }
  return false;
}

/**
 * Whether every difference between two texts is benign; the reasons when not.
 * `explain` fills the notes (slower; for the bench).
 */
export function benignVerdict(
  a: BenignFeatures,
  b: BenignFeatures,
  explain = false,
): BenignVerdict {
  const notes: string[] = [];
  /** Per text: content word index → class key (shared across texts). */
  const keyA: (string | null)[] = a.words.map(() => null);
  const keyB: (string | null)[] = b.words.map(() => null);
  const byStemB = new Map<string, number[]>();
  b.stems.forEach((s, j) => byStemB.set(s, [...(byStemB.get(s) ?? []), j]));
  a.words.forEach((w, i) => {
    for (const j of byStemB.get(a.stems[i]) ?? []) {
      const v = b.words[j];
      const rel = v === w ? "same" : relation(w, v);
      if (rel === "same" || rel === "inflection") {
        keyA[i] = keyB[j] = a.stems[i];
        if (explain && rel === "inflection") notes.push(`${w} = ${v}: inflection`);
      }
    }
  });
  // A singular left over against its plural: "delete the user" / "the users".
  let plural: string | null = null;
  a.words.forEach((w, i) => {
    if (keyA[i] !== null || plural) return;
    for (const j of byStemB.get(a.stems[i]) ?? []) {
      if (keyB[j] === null && relation(w, b.words[j]) === "plural") plural = `${w} / ${b.words[j]}`;
    }
  });
  const onlyA = [...new Set(a.words.filter((_, i) => keyA[i] === null))];
  const onlyB = [...new Set(b.words.filter((_, j) => keyB[j] === null))];
  const verdict = (reason: string | null): BenignVerdict => ({ reason, onlyA, onlyB, notes });
  if (plural) {
    notes.push(`${plural}: singular against plural`);
    return verdict("plural");
  }
  // Each unmatched word must pair with an unmatched word of the other text.
  let unpaired: string | null = null;
  const pairKey = new Map<string, string>();
  const pairUp = (w: string, others: string[]): boolean => {
    if (pairKey.has(w)) return true;
    const partner = others.find((v) => synonymous(w, v));
    if (partner === undefined) {
      unpaired ??= w;
      if (explain) notes.push(`${w}: pairs with nothing in the other text`);
      return false;
    }
    const key = pairKey.get(partner) ?? `~${w}`;
    pairKey.set(w, key).set(partner, key);
    if (explain) notes.push(`${w} = ${partner}: one WordNet synset`);
    return true;
  };
  for (const w of onlyA) if (!pairUp(w, onlyB) && !explain) break;
  if (unpaired === null || explain) {
    for (const v of onlyB) if (!pairUp(v, onlyA) && !explain) break;
  }
  if (unpaired !== null) return verdict("word");
  // Shared content words (pairs as one) in the same order.
  // Repeats count: "the secret to Secret's success" is not "the secret to success".
  const seq = (words: string[], keys: (string | null)[]) =>
    words.flatMap((w, i) => keys[i] ?? pairKey.get(w) ?? []);
  const sa = seq(a.words, keyA), sb = seq(b.words, keyB);
  if (sa.length !== sb.length || sa.some((k, i) => k !== sb[i])) {
    notes.push("the shared words come in another order");
    return verdict("order");
  }
  if (explain && onlyA.length === 0 && onlyB.length === 0) {
    notes.push("same content words (function words and filler aside)");
  }
  return verdict(null);
}

/** Why two texts differ in a way that may matter, or null when every difference is benign. */
export function benignMismatch(a: BenignFeatures, b: BenignFeatures): string | null {
  return benignVerdict(a, b).reason;
}
