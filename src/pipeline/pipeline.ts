/**
 * The cascade: layers run in order; the first that answers ends the walk.
 *
 * @module
 */

import { GatewayError } from "../http/errors.ts";
import type { Answer, ChatRequest, Layer, RequestContext } from "./types.ts";

/** Runs a request through the layers. */
export class Pipeline {
  constructor(readonly layers: readonly Layer[]) {}

  /** The first answer any layer gives. */
  async run(req: ChatRequest, ctx: RequestContext): Promise<Answer> {
    for (const layer of this.layers) {
      const answer = await layer.handle(req, ctx);
      if (answer) return answer;
    }
    throw new GatewayError(503, "no_layer_answered", "no layer could answer this request");
  }
}
