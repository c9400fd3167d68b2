/**
 * The instruction-text rules in their fixed order: comments, rule lines,
 * whitespace (minify), then repeated blocks (dedup). Pure: the same text and
 * the same blocks seen before give the same result.
 *
 * @module
 */

import { removeComments } from "./comments.ts";
import { dropRepeatedBlocks, type SeenBlocks } from "./dedup_blocks.ts";
import { joinLines, splitLines } from "./lines.ts";
import { removeRuleLines } from "./rule_lines.ts";
import { tidyWhitespace } from "./whitespace.ts";

/** Which rule sets run. */
export interface OptimiseRules {
  /** Comments, decorative rule lines, trailing whitespace, blank runs. */
  minify: boolean;
  /** Repeated blocks kept once; runs of identical tool-result lines folded. */
  dedup: boolean;
}

/**
 * Rewrites one system or instruction text; `seen` carries the request's earlier blocks.
 *
 * @example
 * ```ts
 * optimiseInstructions("a  \n\n\n<!-- x -->\nb", { minify: true, dedup: true }, new Set());
 * // "a\n\nb"
 * ```
 */
export function optimiseInstructions(
  text: string,
  rules: OptimiseRules,
  seen: SeenBlocks,
): string {
  let lines = splitLines(text);
  if (rules.minify) lines = tidyWhitespace(removeRuleLines(removeComments(lines)));
  if (rules.dedup) lines = dropRepeatedBlocks(lines, seen);
  const out = joinLines(lines);
  return out === text ? text : out;
}
