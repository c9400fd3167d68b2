/**
 * Rule: decorative rule lines in prose are removed.
 *
 * A rule line is one character of `- = _ * ~ # +` or a box-drawing line
 * character, three or more times, with spaces between allowed (`---`,
 * `* * *`, `====`, `────`). They separate sections for the eye; headings and
 * blank lines still do for the model. Kept: a `-`/`=` line directly under a
 * prose line (a setext heading's underline, or YAML front matter's end) and a
 * first line of `---` (front matter's start).
 *
 * @module
 */

import { isBlank, type Line } from "./lines.ts";

const RULE = /^ {0,3}([-=_*~#+\u2500\u2501\u2550\u2014])(?:[ \t]*\1){2,}[ \t]*\r?$/;

/** Whether a line is a decorative rule, given the line before it. */
export function isRuleLine(text: string, previous: string | null): boolean {
  const m = RULE.exec(text);
  if (!m) return false;
  const ch = m[1];
  if ((ch === "-" || ch === "=") && previous !== null && !isBlank(previous)) return false;
  if (ch === "-" && previous === null) return false;
  return true;
}

/**
 * Drops the rule lines of the prose.
 *
 * @example
 * ```ts
 * removeRuleLines([{ text: "", code: false }, { text: "-----", code: false }]).length; // 1
 * ```
 */
export function removeRuleLines(lines: Line[]): Line[] {
  const out: Line[] = [];
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.code && isRuleLine(line.text, i === 0 ? null : lines[i - 1].text)) {
      changed = true;
      continue;
    }
    out.push(line);
  }
  return changed ? out : lines;
}
