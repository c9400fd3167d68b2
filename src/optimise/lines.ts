/**
 * Text as lines, each marked prose or code: the rules change prose lines only.
 *
 * A fenced code block (CommonMark: a line of three or more backticks or
 * tildes, indented at most three spaces, up to the matching closing fence)
 * is code, fences included; an unclosed fence runs to the end of the text.
 * Code is never touched: whitespace and repeats in it can be meaning.
 *
 * @module
 */

/** One line of a text, and whether it is inside a fenced code block. */
export interface Line {
  text: string;
  code: boolean;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Splits a text into lines (on `\n`; a `\r` before it stays part of the line).
 *
 * @example
 * ```ts
 * splitLines("a\n```\nx  \n```").map((l) => l.code); // [false, true, true, true]
 * ```
 */
export function splitLines(source: string): Line[] {
  const out: Line[] = [];
  let fence: string | null = null;
  for (const text of source.split("\n")) {
    if (fence === null) {
      const m = FENCE.exec(text);
      if (m) {
        // A backtick fence's info string may hold no backtick (CommonMark §4.5).
        if (m[1][0] !== "`" || !text.slice(m[0].length).includes("`")) fence = m[1];
      }
      out.push({ text, code: fence !== null });
    } else {
      out.push({ text, code: true });
      const m = FENCE.exec(text);
      if (
        m && m[1][0] === fence[0] && m[1].length >= fence.length &&
        text.slice(m[0].length).trim() === ""
      ) fence = null;
    }
  }
  return out;
}

/** Joins lines back into a text. */
export function joinLines(lines: readonly Line[]): string {
  return lines.map((l) => l.text).join("\n");
}

/** Whether a line holds nothing but whitespace. */
export function isBlank(text: string): boolean {
  return text.trim() === "";
}
