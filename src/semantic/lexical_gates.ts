/**
 * Lexical gates: after the cosine test, the query and the candidate must agree
 * on the details an embedding blurs, else the lookup is a miss.
 *
 * - **numbers**: `port 8080` never matches `port 8081`;
 * - **negations and opposites**: `not`, `never`, `without`, `no`, `don't`… must
 *   agree in number, and no pair may take opposite sides (`turn on` / `turn
 *   off`, `enable` / `disable`, `increase` / `decrease`, `buy` / `sell`…);
 * - **code identifiers** (`camelCase`, `snake_case`, `dotted.names`, `call()`,
 *   `--flags`), **quoted strings**, **file paths and URLs**, and **names**
 *   (capitalized words inside a sentence: `Paris`, `UK`): each one that either
 *   side mentions must be mentioned by the other.
 *
 * - last, **every other difference must be benign** (src/semantic/benign_diff.ts):
 *   the allow-list that decides; the gates above are exact-match checks on the
 *   details it leaves out (numbers, code, mentions).
 *
 * A gate can only turn a hit into a miss: the cost of a wrong rejection is one
 * upstream call, the cost of a wrong hit is a wrong answer.
 *
 * @module
 */

import { normalizeText, wordTokens } from "../embed/fallback.ts";
import { type BenignFeatures, benignFeatures, benignMismatch } from "./benign_diff.ts";

/** Version of the gate features; stored with each entry, bumped when extraction changes. */
export const GATES_VERSION = 3;

/** What the gates compare, extracted once per text (and stored with each cache entry). */
export interface GateFeatures {
  /** Numbers, normalized (`30,000` → `30000`, `v1.2` → `1.2`), signed, in order. */
  numbers: string[];
  /** Arithmetic and comparison operators between operands, in order (`10 - 3` → `["-"]`). */
  operators: string[];
  /**
   * For texts whose meaning depends on word order (`from A to B`, `X into Y`,
   * `A than B`): the content words in order; empty otherwise.
   */
  order: string[];
  /** How many negation markers the text has (`not`, `n't`, `no`, `never`, `without`…). */
  negations: number;
  /** Opposite-pair sides taken, as `axis:+` or `axis:-`, sorted, distinct. */
  poles: string[];
  /** Mentions that must appear on both sides: identifiers, quoted strings, paths, URLs, names. */
  mentions: string[];
  /** The lower-cased word tokens (to test whether the other side mentions a term). */
  words: string[];
  /** What the benign-difference check compares (src/semantic/benign_diff.ts). */
  benign: BenignFeatures;
}

const NEGATIONS: ReadonlySet<string> = new Set([
  "not",
  "no",
  "never",
  "without",
  "none",
  "nobody",
  "nothing",
  "neither",
  "nor",
  "nowhere",
]);

/** Opposite pairs by axis: [axis, positive side, negative side]. */
const AXES: ReadonlyArray<[string, string, string]> = [
  [
    "on",
    "on enable enabled enables enabling activate activated activates activating start started " +
    "starts starting allow allowed allows allowing show showed shows showing shown unmute " +
    "unlock unblock unhide open opened opens opening install installed installs installing " +
    "accept accepted accepts accepting permit permitted",
    "off disable disabled disables disabling deactivate deactivated deactivates deactivating " +
    "stop stopped stops stopping deny denied denies block blocked blocks blocking hide hides " +
    "hiding hidden mute muted lock locked close closed closes closing uninstall uninstalled " +
    "uninstalls uninstalling refuse refused refuses refusing reject rejected rejects rejecting " +
    "forbid forbidden",
  ],
  [
    "more",
    "increase increased increases increasing raise raised more maximum max maximize higher " +
    "larger bigger longer faster up",
    "decrease decreased decreases decreasing reduce reduced reduces lower lowered less fewer " +
    "minimum min minimize smaller shorter slower down",
  ],
  [
    "add",
    "add added adds adding insert inserted inserts create created creates include included " +
    "includes append attach attached",
    "remove removed removes removing delete deleted deletes deleting drop dropped exclude " +
    "excluded detach erase erased",
  ],
  ["login", "login signin", "logout signout"],
  ["time", "before earlier prior", "after later"],
  ["trade", "buy buying bought purchase", "sell selling sold"],
  [
    "io",
    "import imports imported input upload uploaded download",
    "export exports exported output",
  ],
  [
    "code",
    "encode encoded encrypt encrypted compress compressed",
    "decode decoded decrypt decrypted decompress decompressed",
  ],
  [
    "link",
    "connect connected subscribe subscribed",
    "disconnect disconnected unsubscribe unsubscribed",
  ],
  ["grade", "upgrade upgraded", "downgrade downgraded"],
  [
    "value",
    "best good better pros advantage advantages positive true",
    "worst bad worse cons disadvantage disadvantages negative false",
  ],
  [
    "sex",
    "man men male boy boys husband father son",
    "woman women female girl girls wife mother daughter",
  ],
  ["end", "first beginning top", "last end bottom"],
  ["order", "ascending asc", "descending desc"],
  ["win", "win wins won winning", "lose loses lost losing"],
];

const POLE: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const [axis, plus, minus] of AXES) {
    for (const w of plus.split(" ")) m.set(w, `${axis}:+`);
    for (const w of minus.split(" ")) m.set(w, `${axis}:-`);
  }
  return m;
})();

const BEST_WAY =
  /\b(?:what is|what are|which is|what|which) the best (?:way|ways|method|approach) (?:to|for)\b/g;

/** Verbs after which `on`/`off`/`in`/`out` take a side (`turn on`, `log in`, `opt out`). */
const PARTICLE_VERBS =
  /\b(turn|turns|turned|turning|switch|switches|switched|switching|toggle|toggled|toggling|flip|flipped|set|put|power|powered|log|logs|logged|logging|sign|signs|signed|signing|opt|opts|opted|opting)((?:\s+[\p{L}\p{N}'-]+){0,4}?)\s+(on|off|in|out)\b/gu;

const FILE_EXTENSIONS =
  "ts|tsx|js|jsx|mjs|cjs|json|jsonl|py|rb|go|rs|java|kt|c|h|cc|cpp|hpp|cs|php|sh|bash|zsh|ps1|" +
  "md|txt|csv|tsv|yaml|yml|toml|ini|cfg|conf|env|xml|html|htm|css|scss|sql|lock|log|pdf|png|" +
  "jpg|jpeg|gif|svg|zip|gz|tar|wasm|swift|lua|r|dart|vue|svelte|dockerfile";

const URL_RE = /\b(?:https?|ftp|wss?):\/\/[^\s<>"'`)\]]+/gi;
const PATH_RE =
  /(?:^|[\s(="'`])((?:~|\.{1,2})?(?:\/[\w.@+-]+){2,}\/?|(?:~|\.{1,2})\/[\w.@+-]+|[A-Za-z]:\\[\w\\. -]+)/g;
const FILE_RE = new RegExp(`\\b[\\w-]+(?:\\.[\\w-]+)*\\.(?:${FILE_EXTENSIONS})\\b`, "gi");
const QUOTED_RE =
  /"([^"\n]{1,200})"|“([^”\n]{1,200})”|‘([^’\n]{1,200})’|`([^`\n]{1,200})`|(?:^|[\s(\[{:=,])'([^'\n]{1,200})'(?=$|[\s)\]},.;:!?])/g;
const IDENTIFIER_RE =
  /(?<![\w-])--?[a-z][\w-]*[a-z0-9]|\b[A-Za-z_$][\w$]*\(\)|\b[a-z]+(?:[A-Z][a-z0-9]*)+\b|\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b|\b[A-Za-z]\w*_\w+\b|\b[A-Za-z_]\w+(?:\.[A-Za-z_]\w+)+\b/g;
/** A number, with its sign when a minus sits right before it (`-5`, not `10 - 3`). */
const NUMBER_RE = /(?:(?<![\p{L}\p{N}.)])-)?\d+(?:[.,]\d+)*/gu;
/** An operator between operands: after a digit or `)`, before a digit, `(`, `-` or a letter. */
const OPERATOR_RE = /(?<=[\d)]\s*)(<=|>=|!=|==|=>|[-+*/^%<>=×÷])(?=\s*[-\p{L}\p{N}(])/gu;
/** A comparison written between spaced words (`x < y`). */
const COMPARISON_RE = /(?<=\s)(<=|>=|!=|==|<|>)(?=\s)/g;
/** Words that make a sentence's meaning depend on its word order. */
const DIRECTIONAL_RE =
  /\bfrom\b.*\b(?:to|into)\b|\b(?:into|than|versus|vs\.?|instead of|rather than)\b|\b(?:pass|passes|passed|send|sends|sent|move|moves|moved|copy|copies|copied|migrate|migrates|migrated|convert|converts|converted|transfer|transfers|transferred|cast|map|maps|mapped|compare|compares)\b.*\b(?:to|with)\b/;
/** Function words left out of the word order of directional texts. */
const ORDER_STOPWORDS: ReadonlySet<string> = new Set(
  ("a an the to into from of in on at by for with and or my our your their its this that these " +
    "those is are be do does how what can i you we it as than versus vs instead rather").split(" "),
);
/** A capitalized word that does not start a sentence: a name (`Paris`, `UK`, `iPhone`). */
const NAME_RE =
  /(?<![.!?:\n]\s*|^\s*|["'“‘(\[]\s*)\b(?:[A-Z][\p{L}\p{N}]*|[a-z]+[A-Z][\p{L}\p{N}]*)/gu;

function normalizeNumber(raw: string): string {
  // Thousands separators go ("30,000" → "30000"); a comma between other digits is a list.
  const t = /^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(raw) ? raw.replace(/,/g, "") : raw;
  return t.replace(/^0+(?=\d)/, "");
}

/** Collapses a mention for comparison: lower case, inner spaces single. */
function norm(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

/**
 * The gate features of a text.
 *
 * @example
 * ```ts
 * const f = gateFeatures("Why does port 8080 not open in `server.ts`?");
 * f.numbers; // ["8080"]
 * f.negations; // 1
 * f.mentions; // ["server.ts"]
 * ```
 */
export function gateFeatures(text: string): GateFeatures {
  const raw = text.normalize("NFKC").replace(/""/g, '"');
  const mentions = new Set<string>();
  let rest = raw;
  const take = (re: RegExp, group = 0) => {
    rest = rest.replace(re, (...m: string[]) => {
      const all = m.slice(0, -2).filter((x) => typeof x === "string");
      const value = group === -1 ? all.slice(1).find((x) => x !== undefined) : all[group];
      if (value && value.trim()) mentions.add(norm(value));
      return " ";
    });
  };
  take(URL_RE);
  take(QUOTED_RE, -1);
  take(PATH_RE, 1);
  take(FILE_RE);
  take(IDENTIFIER_RE);
  for (const m of rest.matchAll(NAME_RE)) {
    const w = m[0];
    // "I" and a lone capital are not names.
    if (w.length > 1) mentions.add(norm(w));
  }
  const numbers = (raw.match(NUMBER_RE) ?? []).map((n) =>
    n.startsWith("-") ? `-${normalizeNumber(n.slice(1))}` : normalizeNumber(n)
  );
  const operators = [
    ...[...rest.matchAll(OPERATOR_RE)].map((m) => m[1]),
    ...[...rest.matchAll(COMPARISON_RE)].map((m) => m[1]),
  ];
  const lower = normalizeText(raw);
  const words = wordTokens(raw);
  let negations = 0;
  for (const w of words) if (NEGATIONS.has(w)) negations++;
  const poles = new Set<string>();
  // "What is the best way to X" asks how to X: its "best" takes no side.
  const particles = lower.replace(BEST_WAY, " ").replace(
    PARTICLE_VERBS,
    (_, verb: string, _between: string, p: string) => {
      const axis = /^(?:log|sign)/.test(verb) ? "login" : "on";
      poles.add(`${axis}:${p === "on" || p === "in" ? "+" : "-"}`);
      return " ";
    },
  );
  for (const w of particles.match(/[\p{L}\p{N}]+/gu) ?? []) {
    // A bare "on" is mostly a preposition: only its particle use (above) counts.
    if (w === "on") continue;
    const pole = POLE.get(w);
    if (pole) poles.add(pole);
  }
  const order = DIRECTIONAL_RE.test(lower) ? words.filter((w) => !ORDER_STOPWORDS.has(w)) : [];
  return {
    numbers,
    operators,
    order,
    negations,
    poles: [...poles].sort(),
    mentions: [...mentions].sort(),
    words: [...new Set(words)],
    benign: benignFeatures(raw),
  };
}

/** Whether a text mentions `m`: as a mention of its own, or as all of its words. */
function mentioned(m: string, mentions: ReadonlySet<string>, words: ReadonlySet<string>): boolean {
  if (mentions.has(m)) return true;
  const parts = m.match(/[\p{L}\p{N}]+/gu) ?? [];
  return parts.length > 0 && parts.every((p) => words.has(p));
}

/**
 * Why two texts disagree, or null when every gate passes: `"numbers"`,
 * `"operators"`, `"negations"`, `"opposites"`, `"order"`, `"mentions"`, or the
 * benign-difference check's `"plural"`, `"word"`, `"order"`.
 *
 * @example
 * ```ts
 * gateMismatch(gateFeatures("turn on dark mode"), gateFeatures("turn off dark mode")); // "opposites"
 * gateMismatch(gateFeatures("use port 8080"), gateFeatures("use port 8081")); // "numbers"
 * gateMismatch(gateFeatures("reset my password"), gateFeatures("Reset my password!")); // null
 * ```
 */
export function gateMismatch(a: GateFeatures, b: GateFeatures): string | null {
  if (!sameList(a.numbers, b.numbers)) return "numbers";
  if (!sameList(a.operators ?? [], b.operators ?? [])) return "operators";
  if (a.negations !== b.negations) return "negations";
  // On every axis either text touches, both must take the same side(s): "turn
  // it off" never matches "turn it on", nor a text that takes no side at all.
  const axes = new Set([...a.poles, ...b.poles].map((p) => p.slice(0, -2)));
  for (const axis of axes) {
    const sides = (f: GateFeatures) => f.poles.filter((p) => p.slice(0, -2) === axis).join();
    if (sides(a) !== sides(b)) return "opposites";
  }
  if ((a.order?.length || b.order?.length) && !sameOrder(a.order ?? [], b.order ?? [])) {
    return "order";
  }
  if (a.mentions.length || b.mentions.length) {
    const [ma, mb] = [new Set(a.mentions), new Set(b.mentions)];
    const [wa, wb] = [new Set(a.words), new Set(b.words)];
    for (const m of a.mentions) if (!mentioned(m, mb, wb)) return "mentions";
    for (const m of b.mentions) if (!mentioned(m, ma, wa)) return "mentions";
  }
  // Last, the allow-list: every other difference must be a benign one.
  return benignMismatch(a.benign, b.benign);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Whether the words two directional texts share come in the same order
 * ("from data to backup" never matches "from backup to data"); a text that
 * is not directional on one side makes the other side's order decide alone.
 */
function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  const inB = new Set(b);
  const inA = new Set(a);
  return sameList(a.filter((w) => inB.has(w)), b.filter((w) => inA.has(w)));
}
