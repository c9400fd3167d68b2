/**
 * The cascade: layers run in order; the first that answers ends the walk, and
 * its answer flows back through the layers before it (which may record it).
 *
 * @module
 */

import { GatewayError } from "../http/errors.ts";
import type { Answer, ChatRequest, Layer, LayerTimer, RequestContext } from "./types.ts";

/** Runs a request through the layers. */
export class Pipeline {
  /**
   * @param timer told each layer's own time: from its start until it passed
   * (called `next()`) or its answer was ready, the span's extent too.
   */
  constructor(readonly layers: readonly Layer[], readonly timer?: LayerTimer) {}

  /** The answer of the first layer that answers. */
  run(req: ChatRequest, ctx: RequestContext): Promise<Answer> {
    const step = (i: number, req: ChatRequest): Promise<Answer> => {
      const layer = this.layers[i];
      if (!layer) {
        return Promise.reject(
          new GatewayError(503, "no_layer_answered", "no layer could answer this request"),
        );
      }
      let called = false;
      const span = layer.spanName ? ctx.trace?.layer(layer.spanName) : undefined;
      const timer = this.timer;
      const started = timer ? performance.now() : 0;
      // A layer may hand the rest of the cascade a rewritten request (L2.5 does).
      const next = (rewritten?: ChatRequest) => {
        // A second call would be a second upstream request (Hono's compose refuses it too).
        if (called) {
          return Promise.reject(new Error(`layer ${layer.name} called next() twice`));
        }
        called = true;
        span?.passed();
        timer?.(layer.name, "passed", (performance.now() - started) / 1000);
        return step(i + 1, rewritten ?? req);
      };
      const answer = layer.handle(req, ctx, next);
      if (!span && !timer) return answer;
      return answer.then((a) => {
        if (!called) {
          span?.answered(a.status);
          timer?.(layer.name, "answered", (performance.now() - started) / 1000);
        }
        return a;
      }, (e) => {
        if (!called) {
          span?.failed(e);
          timer?.(layer.name, "error", (performance.now() - started) / 1000);
        }
        throw e;
      });
    };
    return step(0, req);
  }
}
