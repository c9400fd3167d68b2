/**
 * Rule: in a tool result, a run of identical lines becomes the line once and
 * a note of how many times it repeats.
 *
 * Logs, progress output and test runners repeat lines; the model needs the
 * line and the count, not every copy. Only where it saves bytes (the note
 * costs some), never for blank lines, never inside a fenced code block.
 *
 * @module
 */

import { isBlank, splitLines } from "./lines.ts";

/** Shortest run that is folded. */
export const MIN_RUN = 3;

/** The note that replaces the copies after the first. */
export function repeatNote(more: number): string {
  return `[the line above repeats ${more} more times]`;
}

/**
 * Folds runs of identical lines.
 *
 * @example
 * ```ts
 * foldLineRuns("ok\nwarn: x\nwarn: x\nwarn: x\nwarn: x\ndone");
 * // "ok\nwarn: x\n[the line above repeats 3 more times]\ndone"
 * ```
 */
export function foldLineRuns(text: string): string {
  if (text.indexOf("\n") < 0) return text;
  const lines = splitLines(text);
  const out: string[] = [];
  let changed = false;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let j = i + 1;
    if (!line.code && !isBlank(line.text)) {
      while (j < lines.length && !lines[j].code && lines[j].text === line.text) j++;
    }
    const more = j - i - 1;
    const note = repeatNote(more);
    // Copies cost (line + "\n") each; the note costs (note + "\n").
    if (j - i >= MIN_RUN && more * (line.text.length + 1) > note.length + 1) {
      out.push(line.text, note);
      changed = true;
    } else {
      for (let k = i; k < j; k++) out.push(lines[k].text);
    }
    i = j;
  }
  return changed ? out.join("\n") : text;
}
