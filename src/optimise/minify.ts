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

/**
 * Whether minify could change a text: a comment, trailing whitespace, a blank run or a line of
 * repeated rule characters. Most system prompts have none: they skip the line work.
 */
const MAY_MINIFY =
  /<!--|[ \t]\r?$|^[ \t]*\r?\n[ \t]*\r?$|^ {0,3}([-=_*~#+\u2500\u2501\u2550\u2014])(?:[ \t]*\1){2,}[ \t]*\r?$/m;

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
  const minify = rules.minify && MAY_MINIFY.test(text);
  if (!minify && !rules.dedup) return text;
  const split = splitLines(text);
  let lines = split;
  if (minify) lines = tidyWhitespace(removeRuleLines(removeComments(lines)));
  if (rules.dedup) lines = dropRepeatedBlocks(lines, seen);
  // The rules return their input when they change nothing: no join, the same string.
  if (lines === split) return text;
  const out = joinLines(lines);
  return out === text ? text : out;
}
