/**
 * The similarity a semantic match needs, per embedder. `similarity_threshold
 * = "auto"` takes the default of the active embedder below; a number
 * overrides it. How each default was chosen: docs/semantic-cache.md.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { Embedder } from "../embed/embedder.ts";

/**
 * The default threshold per embedding backend.
 *
 * - `none` (the model-free fallback): 0.7. The benign-difference check
 *   (src/semantic/benign_diff.ts) decides a hit, the similarity only ranks:
 *   from 0.7 up, QQP dev keeps 0.12% false hits and our one-change set none,
 *   with more hits than at 0.9 (docs/semantic-cache.md).
 * - `minilm`, `remote`: not calibrated here (no model weights on the network
 *   this was built on); a conservative value from published all-MiniLM-L6-v2
 *   results on QQP, where false hits stay low only from about 0.9 up.
 */
export const DEFAULT_THRESHOLDS: Readonly<Record<string, number>> = {
  none: 0.7,
  minilm: 0.92,
  remote: 0.92,
};

/** The threshold for an embedder under a configuration. */
export function similarityThreshold(config: Config, embedder: Pick<Embedder, "name">): number {
  const t = config.similarity_threshold;
  if (typeof t === "number") return t;
  return DEFAULT_THRESHOLDS[embedder.name] ?? DEFAULT_THRESHOLDS.minilm;
}
