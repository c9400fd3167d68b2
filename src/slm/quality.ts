/**
 * The quality gate on an L2 answer, before a byte of it goes out: an empty
 * answer, a refusal, an answer cut by L2's own token limit, or one in another
 * script than the question (Latin, Cyrillic, Greek, Arabic, Hebrew,
 * Devanagari, CJK, Hangul, Thai) goes to L3 instead.
 *
 * @module
 */

/** Why an answer fails the gate, or null when it passes. */
export type QualityProblem = "empty" | "refusal" | "truncated" | "wrong_language" | null;

const REFUSAL =
  /^\W*(i'?m sorry|i am sorry|sorry,|i apologi[sz]e|i can(?:no|'|’)t|i am (?:un)?able|i'?m (?:un)?able|i am not able|as an ai|i don'?t know|i do not know|i'?m not sure|i am not sure|unfortunately,? i)/i;

const SCRIPTS: [string, RegExp][] = [
  ["latin", /\p{Script=Latin}/u],
  ["cyrillic", /\p{Script=Cyrillic}/u],
  ["greek", /\p{Script=Greek}/u],
  ["arabic", /\p{Script=Arabic}/u],
  ["hebrew", /\p{Script=Hebrew}/u],
  ["devanagari", /\p{Script=Devanagari}/u],
  ["cjk", /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ["hangul", /\p{Script=Hangul}/u],
  ["thai", /\p{Script=Thai}/u],
];

/**
 * The script most letters of `text` are written in, or null when it has none.
 *
 * @example
 * ```ts
 * dominantScript("Wie spät ist es?"); // "latin"
 * dominantScript("Сколько времени?"); // "cyrillic"
 * ```
 */
export function dominantScript(text: string): string | null {
  const counts = new Map<string, number>();
  for (const ch of text) {
    for (const [name, re] of SCRIPTS) {
      if (re.test(ch)) {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        break;
      }
    }
  }
  let best: string | null = null;
  let n = 0;
  for (const [name, c] of counts) if (c > n) [best, n] = [name, c];
  return best;
}

/**
 * Checks an answer (or its opening, for a stream) against the question.
 * `truncated`: generation stopped at L2's own `max_answer_tokens`.
 *
 * @example
 * ```ts
 * answerProblem("What is the capital of France?", "I'm sorry, I can't help.", false); // "refusal"
 * answerProblem("What is the capital of France?", "Paris.", false); // null
 * ```
 */
export function answerProblem(
  question: string,
  answer: string,
  truncated: boolean,
): QualityProblem {
  const text = answer.trim();
  if (text === "") return "empty";
  if (REFUSAL.test(text)) return "refusal";
  if (truncated) return "truncated";
  const asked = dominantScript(question);
  const said = dominantScript(text);
  if (asked && said && asked !== said) return "wrong_language";
  return null;
}
