/**
 * L2.5, the context optimiser: a smaller prompt for what goes to the cloud,
 * keeping every instruction and the provider's prompt cache.
 *
 * It sits after the caches (their keys are computed on the client's original
 * request) and before L3. It never answers: it hands L3 a rewritten request
 * (src/optimise/) when a rule changed something, else the client's own. The
 * rewrite is deterministic, and whether a block changes depends only on what
 * came before it, so turn N+1's rewritten prefix equals turn N's and the
 * provider's prompt cache (Anthropic `cache_control`, OpenAI prefix caching)
 * keeps hitting. A client turns it off per request with
 * `x-isartor-optimize: off`. What it saved travels on the answer
 * (`X-Isartor-Context-Optimized`); the recorder counts it into the stats and
 * `isartor_tokens_saved_total{layer="l2_5"}` when the request finishes.
 *
 * @module
 */

import type { Answer, ChatRequest, Layer, Next, RequestContext } from "../pipeline/types.ts";
import type { OptimiseRules } from "../optimise/minify.ts";
import { optimiseRequest } from "../optimise/request.ts";

/** The request header that turns the optimiser off for one request. */
export const OPTIMIZE_HEADER = "x-isartor-optimize";
/** The response header that says how many tokens (estimated) a rewrite saved. */
export const OPTIMIZED_HEADER = "x-isartor-context-optimized";

const encoder = new TextEncoder();

/** The context optimiser layer. */
export class ContextOptimiserLayer implements Layer {
  readonly name = "l2_5" as const;
  readonly spanName = "context_optimise";

  constructor(readonly rules: OptimiseRules) {}

  handle(req: ChatRequest, _ctx: RequestContext, next: Next): Promise<Answer> {
    if (req.headers.get(OPTIMIZE_HEADER)?.trim().toLowerCase() === "off") return next();
    const result = optimiseRequest(req.protocol, req.body, this.rules);
    if (!result) return next();
    const rewritten: ChatRequest = {
      ...req,
      body: result.body,
      raw: encoder.encode(JSON.stringify(result.body)),
    };
    const saved = Math.max(0, result.tokensSaved);
    return next(rewritten).then((answer) => ({
      ...answer,
      layerHeaders: { ...answer.layerHeaders, [OPTIMIZED_HEADER]: String(saved) },
    }));
  }
}
