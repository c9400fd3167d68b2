/**
 * The WordNet synonym pairs (generated: src/semantic/wordnet/synonym_table.ts),
 * parsed once, on first use.
 *
 * @module
 */

import { SYNONYM_TABLE } from "./wordnet/synonym_table.ts";

/** Lemma → its partners as one string, " a b c " (a string per lemma: a third of the memory of Sets). */
let table: Map<string, string> | null = null;

/** Parses the table (idempotent); call early to keep the first lookup fast. */
export function loadSynonyms(): ReadonlyMap<string, string> {
  if (table) return table;
  const t = new Map<string, string>();
  for (const line of SYNONYM_TABLE.split("\n")) {
    const i = line.indexOf(" ");
    t.set(line.slice(0, i), `${line.slice(i)} `);
  }
  return table = t;
}

/** Whether `lemma` is a WordNet lemma with at least one synonym pair. */
export function hasSynonyms(lemma: string): boolean {
  return (table ?? loadSynonyms()).has(lemma);
}

/** Whether two lemmas pair (share a synset, under the table's rules). */
export function pairs(a: string, b: string): boolean {
  return (table ?? loadSynonyms()).get(a)?.includes(` ${b} `) ?? false;
}
