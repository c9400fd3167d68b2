/**
 * A fast token estimate for the savings the optimiser reports.
 *
 * Exact counts need the provider's tokenizer (Anthropic's is not public; a BPE
 * tokenizer in JavaScript costs tens of milliseconds per request here), so the
 * gateway estimates: one token per pre-token of the kind BPE tokenizers split
 * on (a word, a number of up to three digits, a run of punctuation, a run of
 * whitespace), long words and punctuation runs counting more. The bench
 * compares it with o200k_base counts on the captured agent requests
 * (docs/context-optimiser.md).
 *
 * @module
 */

// The pre-tokenizer pattern of cl100k/o200k, simplified.
const PIECE =
  / ?[\p{L}\p{M}]+| ?\p{N}{1,3}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** Characters one token covers in a long piece. */
const CHARS_PER_TOKEN = 6;

/**
 * Estimated tokens of a text.
 *
 * @example
 * ```ts
 * estimateTokens("Hello, world!\n"); // 5
 * ```
 */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const m of text.matchAll(PIECE)) {
    const len = m[0].length;
    n += len <= CHARS_PER_TOKEN || m[0].trim() === "" ? 1 : Math.ceil(len / CHARS_PER_TOKEN);
  }
  return n;
}

/**
 * Estimated tokens a rewrite saved: the estimate over the part that changed only (the common
 * start and end, cut back to line starts so the pieces around the change stay whole, are
 * the same on both sides and cost nothing to skip).
 *
 * @example
 * ```ts
 * tokensSaved("keep\nthis   \n\n\n\nkeep", "keep\nthis\n\nkeep"); // 1
 * ```
 */
export function tokensSaved(before: string, after: string): number {
  const n = Math.min(before.length, after.length);
  let start = 0;
  while (start < n && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (
    end < n - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  ) end++;
  start = start === 0 ? 0 : before.lastIndexOf("\n", start - 1) + 1;
  const tail = (s: string) => {
    const i = s.indexOf("\n", s.length - end);
    return i < 0 ? s.length : i;
  };
  return estimateTokens(before.slice(start, tail(before))) -
    estimateTokens(after.slice(start, tail(after)));
}
