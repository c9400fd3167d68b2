/**
 * A fast token estimate for the savings the optimiser reports.
 *
 * Exact counts need the provider's tokenizer (Anthropic's is not public; a BPE
 * tokenizer in JavaScript costs tens of milliseconds per request here), so the
 * gateway estimates: one token per pre-token of the kind BPE tokenizers split
 * on (a word, a number of up to three digits, a run of punctuation, a run of
 * whitespace), very long words and punctuation runs counting more. The bench
 * compares it with o200k_base counts on the captured agent requests
 * (docs/context-optimiser.md).
 *
 * @module
 */

// The pre-tokenizer pattern of cl100k/o200k, simplified.
const PIECE =
  / ?[\p{L}\p{M}]+| ?\p{N}{1,3}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** Characters one token covers in a long word (o200k_base keeps most words whole). */
const LETTERS_PER_TOKEN = 10;
/** Characters one token covers in a long run of punctuation (`=====` is one token). */
const SYMBOLS_PER_TOKEN = 16;

const LETTER = /\p{L}/u;

/**
 * Estimated tokens of a text.
 *
 * @example
 * ```ts
 * estimateTokens("Hello, world!\n"); // 4
 * ```
 */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const m of text.matchAll(PIECE)) {
    const piece = m[0];
    const per = LETTER.test(piece) ? LETTERS_PER_TOKEN : SYMBOLS_PER_TOKEN;
    n += piece.length <= per || piece.trim() === "" ? 1 : Math.ceil(piece.length / per);
  }
  return n;
}

/**
 * Estimated tokens a rewrite saved. The rules remove or replace whole lines, so the estimate is
 * taken line by line over the lines that differ (a multiset difference: lines both texts have
 * cost nothing to skip). A blank line counts nothing: newline runs are one token either way.
 *
 * @example
 * ```ts
 * tokensSaved("keep\n<!-- a note -->\n\n\nkeep", "keep\n\nkeep"); // 4
 * ```
 */
export function tokensSaved(before: string, after: string): number {
  const counts = new Map<string, number>();
  for (const line of before.split("\n")) counts.set(line, (counts.get(line) ?? 0) + 1);
  for (const line of after.split("\n")) counts.set(line, (counts.get(line) ?? 0) - 1);
  let n = 0;
  for (const [line, c] of counts) if (c !== 0 && line.trim() !== "") n += c * estimateTokens(line);
  return n;
}
