/**
 * The L2 classifier: the small model picks one label with a single token
 * (a digit), and the label's probability is read from the top
 * log-probabilities of that token. Free text is never parsed: a label that
 * is not among the top candidates, or a server that returns no
 * log-probabilities, counts as no confidence (the request passes on).
 *
 * @module
 */

import type { SlmBackend, TokenLogprob } from "./backend.ts";

/** `binary`: SIMPLE or COMPLEX. `tiered`: SIMPLE, MODERATE or COMPLEX (only SIMPLE is answered). */
export type ClassifierMode = "binary" | "tiered";

/** A label the classifier gives. */
export type Intent = "SIMPLE" | "MODERATE" | "COMPLEX";

/** The classifier's verdict. */
export interface Classification {
  intent: Intent;
  /** The probability the model gave the chosen label's token (0..1). */
  confidence: number;
}

const LABELS: Record<ClassifierMode, Record<string, Intent>> = {
  binary: { "1": "SIMPLE", "2": "COMPLEX" },
  tiered: { "1": "SIMPLE", "2": "MODERATE", "3": "COMPLEX" },
};

const PROMPTS: Record<ClassifierMode, string> = {
  binary: [
    "You route questions. Reply with exactly one digit and nothing else.",
    "1 = simple: a greeting, a definition, a well-known fact, a unit conversion, simple arithmetic, or a one-sentence rewrite; a short answer that is surely right.",
    "2 = complex: anything else (reasoning, code, long writing, recent events, advice, opinions, or anything you are unsure of).",
  ].join("\n"),
  tiered: [
    "You route questions. Reply with exactly one digit and nothing else.",
    "1 = simple: a greeting, a definition, a well-known fact, a unit conversion, simple arithmetic, or a one-sentence rewrite; a short answer that is surely right.",
    "2 = moderate: a short explanation of a few sentences on a common topic.",
    "3 = complex: anything else (reasoning, code, long writing, recent events, advice, opinions, or anything you are unsure of).",
  ].join("\n"),
};

/**
 * The label of the top candidates: the most probable candidate token that is
 * a label, and its probability.
 *
 * @example
 * ```ts
 * labelOf("binary", [{ token: "1", logprob: -0.05 }, { token: "2", logprob: -3 }]);
 * // { intent: "SIMPLE", confidence: 0.951... }
 * ```
 */
export function labelOf(
  mode: ClassifierMode,
  top: TokenLogprob[] | undefined,
): Classification | null {
  const labels = LABELS[mode];
  let best: Classification | null = null;
  for (const t of top ?? []) {
    const intent = labels[t.token.trim()];
    if (!intent || !Number.isFinite(t.logprob)) continue;
    const p = Math.exp(t.logprob);
    if (!best || p > best.confidence) best = { intent, confidence: p };
  }
  return best;
}

/**
 * Asks the model for the question's label. Null when the model gives no
 * label with a probability (no log-probabilities, or no label among them).
 */
export async function classify(
  backend: SlmBackend,
  mode: ClassifierMode,
  question: string,
  signal: AbortSignal,
): Promise<Classification | null> {
  let top: TokenLogprob[] | undefined;
  for await (
    const chunk of backend.generate({
      messages: [{ role: "system", content: PROMPTS[mode] }, { role: "user", content: question }],
      maxTokens: 1,
      temperature: 0,
      topLogprobs: 10,
      signal,
    })
  ) {
    if (chunk.type === "text" && top === undefined) top = chunk.top;
  }
  return labelOf(mode, top);
}
