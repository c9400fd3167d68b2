/**
 * Rule: a prose block repeated verbatim inside one request is kept once, the
 * first time it appears.
 *
 * A block is a paragraph: a run of non-blank prose lines (code blocks are
 * never blocks). Only blocks of at least {@linkcode MIN_BLOCK_CHARS}
 * characters count, so short lines that repeat by design (headings, list
 * items, "Example:") stay. The texts of a request are visited in order and
 * share one {@linkcode SeenBlocks}: whether a block is dropped depends only on
 * what came before it, so a conversation's rewritten prefix is the same on
 * every turn. A text whose every block was seen before is left whole (an empty
 * system block would be refused by the provider).
 *
 * @module
 */

import { isBlank, type Line } from "./lines.ts";

/** Shortest block that counts as a repeat, in characters. */
export const MIN_BLOCK_CHARS = 64;

/** The blocks seen so far in one request. */
export type SeenBlocks = Set<string>;

/**
 * Drops the prose paragraphs already seen (and the blank line after each).
 *
 * @example
 * ```ts
 * const seen = new Set<string>();
 * dropRepeatedBlocks(lines, seen); // later texts of the same request pass `seen` again
 * ```
 */
export function dropRepeatedBlocks(lines: Line[], seen: SeenBlocks): Line[] {
  const out: Line[] = [];
  const found = new Set<string>();
  let kept = 0;
  let dropped = false;
  let i = 0;
  while (i < lines.length) {
    if (lines[i].code || isBlank(lines[i].text)) {
      if (lines[i].code) kept++;
      out.push(lines[i++]);
      continue;
    }
    let j = i;
    while (j < lines.length && !lines[j].code && !isBlank(lines[j].text)) j++;
    const block = lines.slice(i, j);
    let key = block[0].text.trimEnd();
    for (let k = 1; k < block.length; k++) key += "\n" + block[k].text.trimEnd();
    if (key.length >= MIN_BLOCK_CHARS && (seen.has(key) || found.has(key))) {
      // Drop it, and one blank line after it, so the gap stays a single blank line.
      dropped = true;
      i = j < lines.length && !lines[j].code && isBlank(lines[j].text) ? j + 1 : j;
      continue;
    }
    if (key.length >= MIN_BLOCK_CHARS) found.add(key);
    kept++;
    out.push(...block);
    i = j;
  }
  if (kept === 0) return lines;
  for (const key of found) seen.add(key);
  return dropped ? out : lines;
}
