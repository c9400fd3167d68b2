/**
 * Rule: HTML/XML comments (`<!-- ... -->`) in prose are removed.
 *
 * A comment is invisible in rendered Markdown: instruction files use them for
 * notes to their human maintainers. One inside a code block or an inline code
 * span is kept, and so is an unclosed `<!--` (it may be literal text).
 *
 * @module
 */

import type { Line } from "./lines.ts";

/** Whether position `at` of a line sits inside an inline code span (odd backticks before it). */
function inInlineCode(text: string, at: number): boolean {
  let ticks = 0;
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 96) ticks++;
  return ticks % 2 === 1;
}

/**
 * Removes the comments of the prose lines; a line that held only a comment
 * becomes blank (the blank-line rule folds it away).
 *
 * @example
 * ```ts
 * removeComments([{ text: "a <!-- note --> b", code: false }]); // [{ text: "a  b", ... }]
 * ```
 */
export function removeComments(lines: Line[]): Line[] {
  if (!lines.some((l) => !l.code && l.text.includes("<!--"))) return lines;
  const out: Line[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const start = line.code ? -1 : line.text.indexOf("<!--");
    if (start < 0 || inInlineCode(line.text, start)) {
      out.push(line);
      continue;
    }
    // Find the end, on this line or a later prose line.
    let end = line.text.indexOf("-->", start + 4);
    if (end >= 0) {
      out.push(
        ...removeComments([{
          text: line.text.slice(0, start) + line.text.slice(end + 3),
          code: false,
        }]),
      );
      continue;
    }
    let j = i + 1;
    while (j < lines.length && !lines[j].code && (end = lines[j].text.indexOf("-->")) < 0) j++;
    if (j >= lines.length || lines[j].code) {
      out.push(line); // unclosed: literal text
      continue;
    }
    const head = line.text.slice(0, start);
    const tail = lines[j].text.slice(end + 3);
    out.push(...removeComments([{ text: head + tail, code: false }]));
    i = j;
  }
  return out;
}
