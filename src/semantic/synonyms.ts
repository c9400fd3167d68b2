/**
 * The WordNet synonym pairs (generated: src/semantic/wordnet/synonym_table.ts),
 * parsed once, on first use.
 *
 * @module
 */

import { SYNONYM_TABLE } from "./wordnet/synonym_table.ts";

let table: Map<string, ReadonlySet<string>> | null = null;

/** Parses the table (idempotent); call early to keep the first lookup fast. */
export function loadSynonyms(): Map<string, ReadonlySet<string>> {
  if (table) return table;
  const t = new Map<string, ReadonlySet<string>>();
  for (const line of SYNONYM_TABLE.split("\n")) {
    const words = line.split(" ");
    t.set(words[0], new Set(words.slice(1)));
  }
  return table = t;
}

/** The lemmas that share a synset with `lemma` (undefined: none, or not a WordNet lemma). */
export function synonymsOf(lemma: string): ReadonlySet<string> | undefined {
  return (table ?? loadSynonyms()).get(lemma);
}
