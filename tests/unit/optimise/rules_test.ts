// The deterministic rules of L2.5, one by one (src/optimise/).
import assert from "node:assert/strict";
import { removeComments } from "../../../src/optimise/comments.ts";
import { dropRepeatedBlocks } from "../../../src/optimise/dedup_blocks.ts";
import { joinLines, splitLines } from "../../../src/optimise/lines.ts";
import { foldLineRuns, repeatNote } from "../../../src/optimise/line_runs.ts";
import { optimiseInstructions } from "../../../src/optimise/minify.ts";
import { removeRuleLines } from "../../../src/optimise/rule_lines.ts";
import { tidyWhitespace } from "../../../src/optimise/whitespace.ts";
import { estimateTokens } from "../../../src/optimise/tokens.ts";

const apply =
  (f: (l: ReturnType<typeof splitLines>) => ReturnType<typeof splitLines>) => (text: string) =>
    joinLines(f(splitLines(text)));
const BOTH = { minify: true, dedup: true };

Deno.test("lines: fenced code blocks are code, fences included; an unclosed fence runs to the end", () => {
  assert.deepEqual(
    splitLines("a\n```ts\nx\n```\nb\n~~~\ny").map((l) => l.code),
    [false, true, true, true, false, true, true],
  );
  // A longer closing fence closes; a shorter one or another character does not.
  assert.deepEqual(splitLines("````\n```\n~~~~\n`````\nz").map((l) => l.code), [
    true,
    true,
    true,
    true,
    false,
  ]);
});

Deno.test("comments: removed from prose, on one line or several; kept in code and inline code", () => {
  const rm = apply(removeComments);
  assert.equal(rm("a <!-- note --> b"), "a  b");
  assert.equal(rm("<!-- one -->\ntext\n<!--\nmany\nlines\n-->\nend"), "\ntext\n\nend");
  assert.equal(rm("x <!-- a --> y <!-- b --> z"), "x  y  z");
  assert.equal(rm("```html\n<!-- kept -->\n```"), "```html\n<!-- kept -->\n```");
  assert.equal(rm("use `<!-- x -->` in HTML"), "use `<!-- x -->` in HTML");
  // Unclosed: literal text, kept.
  assert.equal(rm("write <!-- to open a comment"), "write <!-- to open a comment");
  // A comment does not run into a code block.
  assert.equal(rm("<!-- open\n```\n-->\n```"), "<!-- open\n```\n-->\n```");
});

Deno.test("rule lines: decorative rules go; setext underlines, front matter and code stay", () => {
  const rm = apply(removeRuleLines);
  assert.equal(rm("a\n\n---\n\nb"), "a\n\n\nb");
  assert.equal(rm("a\n\n* * *\n\n====\n\n___\n\n────────\n\nb"), "a\n\n\n\n\n\nb");
  assert.equal(rm("Title\n=====\n\nSub\n---"), "Title\n=====\n\nSub\n---");
  assert.equal(rm("---\nname: x\n---\nbody"), "---\nname: x\n---\nbody");
  assert.equal(rm("```\n-----\n```"), "```\n-----\n```");
  // Not rules: table separators, two characters, mixed characters, text.
  assert.equal(rm("\n|---|---|\n\n--\n\n-=-\n\n--- x"), "\n|---|---|\n\n--\n\n-=-\n\n--- x");
});

Deno.test("whitespace: trailing whitespace trimmed and blank runs folded in prose only", () => {
  const tidy = apply(tidyWhitespace);
  assert.equal(tidy("a  \nb\t\n\n\n \n\nc"), "a\nb\n\nc");
  assert.equal(tidy("```\nx   \n\n\n\ny\n```"), "```\nx   \n\n\n\ny\n```");
  // CRLF stays CRLF.
  assert.equal(tidy("a  \r\n\r\n\r\nb"), "a\r\n\r\nb");
});

Deno.test("dedup: a long paragraph seen before goes, the first stays; short ones and code stay", () => {
  const para = "Write commit messages in the imperative mood, one line of at most 72 characters.";
  const seen = new Set<string>();
  const text = `## Commits\n\n${para}\n\n## Other\n\n${para}\n\nend\n\nend`;
  assert.equal(
    joinLines(dropRepeatedBlocks(splitLines(text), seen)),
    `## Commits\n\n${para}\n\n## Other\n\nend\n\nend`,
  );
  // Later texts of the same request share what was seen.
  assert.equal(joinLines(dropRepeatedBlocks(splitLines(`${para}\n\nnew`), seen)), "new");
  const code = "```\n" + para + "\n```";
  assert.equal(
    joinLines(dropRepeatedBlocks(splitLines(`${code}\n\n${code}`), new Set())),
    `${code}\n\n${code}`,
  );
  // A text made only of repeats is left whole (an empty block would be refused upstream).
  assert.equal(joinLines(dropRepeatedBlocks(splitLines(para), seen)), para);
});

Deno.test("line runs: a run of identical lines becomes the line and a count, where that saves", () => {
  const warn = "warning: deprecated option --legacy-peer-deps";
  const text = `start\n${Array(40).fill(warn).join("\n")}\n.\n.\n.\ndone`;
  assert.equal(foldLineRuns(text), `start\n${warn}\n${repeatNote(39)}\n.\n.\n.\ndone`);
  // Too short to save anything, blank lines, and code are kept.
  assert.equal(foldLineRuns("ab\nab\nab"), "ab\nab\nab");
  assert.equal(foldLineRuns("a\n\n\n\n\n\n\nb"), "a\n\n\n\n\n\n\nb");
  const fenced = "```\n" + Array(10).fill(warn).join("\n") + "\n```";
  assert.equal(foldLineRuns(fenced), fenced);
});

Deno.test("instructions: the rules in order; deterministic and idempotent", () => {
  const text =
    "<!-- maintainer note -->\n# Guide   \n\n\n================\n\nBe brief.  \n\n```sh\nrun   \n\n\n```\n";
  const once = optimiseInstructions(text, BOTH, new Set());
  assert.equal(once, "\n# Guide\n\nBe brief.\n\n```sh\nrun   \n\n\n```\n");
  assert.equal(optimiseInstructions(text, BOTH, new Set()), once);
  assert.equal(optimiseInstructions(once, BOTH, new Set()), once);
  // Each rule set can be off.
  assert.equal(optimiseInstructions(text, { minify: false, dedup: true }, new Set()), text);
});

Deno.test("tokens: the estimate counts words, numbers, punctuation and whitespace runs", () => {
  assert.equal(estimateTokens(""), 0);
  assert.equal(estimateTokens("Hello, world!\n"), 4);
  assert.equal(estimateTokens("a".repeat(60)), 6);
  assert.equal(estimateTokens("=".repeat(64)), 4);
});
