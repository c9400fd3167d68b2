/**
 * The cascade: layers run in order; the first that answers ends the walk, and
 * its answer flows back through the layers before it (which may record it).
 *
 * @module
 */

import { GatewayError } from "../http/errors.ts";
import type { Answer, ChatRequest, Layer, RequestContext } from "./types.ts";

/** Runs a request through the layers. */
export class Pipeline {
  constructor(readonly layers: readonly Layer[]) {}

  /** The answer of the first layer that answers. */
  run(req: ChatRequest, ctx: RequestContext): Promise<Answer> {
    const step = (i: number): Promise<Answer> => {
      const layer = this.layers[i];
      if (!layer) {
        return Promise.reject(
          new GatewayError(503, "no_layer_answered", "no layer could answer this request"),
        );
      }
      return layer.handle(req, ctx, () => step(i + 1));
    };
    return step(0);
  }
}
