/**
 * Rule: trailing whitespace on prose lines is removed, and a run of blank
 * prose lines becomes one blank line. Neither changes what Markdown says to a
 * model (a hard line break by two trailing spaces reads as a line break
 * anyway); code keeps its whitespace.
 *
 * @module
 */

import { isBlank, type Line } from "./lines.ts";

const TRAILING = /[ \t]+(\r?)$/;

/** A blank line keeps its `\r` (CRLF texts stay CRLF). */
const eol = (text: string) => (text.endsWith("\r") ? "\r" : "");

/**
 * Trims line ends and folds blank runs of the prose.
 *
 * @example
 * ```ts
 * tidyWhitespace([{ text: "a  ", code: false }, { text: "", code: false }, { text: " ", code: false }]);
 * // [{ text: "a", code: false }, { text: "", code: false }]
 * ```
 */
export function tidyWhitespace(lines: Line[]): Line[] {
  const out: Line[] = [];
  let blank = false;
  let changed = false;
  for (const line of lines) {
    if (line.code) {
      out.push(line);
      blank = false;
      continue;
    }
    if (isBlank(line.text)) {
      if (!blank) {
        const text = eol(line.text);
        out.push(text === line.text ? line : { text, code: false });
        changed ||= text !== line.text;
      } else changed = true;
      blank = true;
      continue;
    }
    blank = false;
    if (TRAILING.test(line.text)) {
      out.push({ text: line.text.replace(TRAILING, "$1"), code: false });
      changed = true;
    } else out.push(line);
  }
  return changed ? out : lines;
}
