/**
 * The edge's recorder: counts each chat request into the stats and the request
 * log once its answer is known, with the client tool and the token usage.
 *
 * Usage comes from the answer's usage events (a cache hit replays the usage of
 * the answer it recorded: the tokens it saved), the JSON body, or the live
 * stream as it goes by (counted when the stream ends).
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { Usage } from "../protocol/events.ts";
import type { Answer, ChatRequest, RequestContext } from "../pipeline/types.ts";
import { detectClientTool } from "./client_tools.ts";
import type { Metrics } from "./metrics.ts";
import { resolvePrices } from "./prices.ts";
import { REQUEST_LOG_FILE, RequestLog } from "./request_log.ts";
import { type RequestRecord, Stats } from "./stats.ts";
import { Timeline } from "./timeline.ts";
import { RequestTrace } from "./tracing.ts";
import { tapSseUsage, usageOfEvents, usageOfJson } from "./usage.ts";

/** The stats file name inside the data directory. */
export const STATS_FILE = "stats.json";

/** Counts requests into the stats and the request log. */
export class Recorder {
  /** Errors already counted, so the edge that answers them does not count them twice. */
  readonly #countedErrors = new WeakSet<object>();

  constructor(
    readonly stats: Stats,
    readonly log: RequestLog | null,
    /** The provider credited when an answer names none (the primary provider). */
    readonly defaultProvider: string,
    /** Minute-by-minute traffic for the dashboard. */
    readonly timeline: Timeline | null = null,
    /** The Prometheus metrics (`/metrics`): counted from the same record as the stats. */
    readonly metrics: Metrics | null = null,
  ) {}

  /**
   * Records an answered request. Returns the answer to encode: the same one, or
   * for a live stream, one whose body counts the usage as it passes. `route`
   * names what the client spoke when it is not `req.protocol` (`native`).
   */
  answered(req: ChatRequest, ctx: RequestContext, answer: Answer, route?: string): Answer {
    const base = this.#base(req, ctx, answer.layer, answer.status);
    if (route) base.route = route;
    base.provider = answer.provider ?? this.defaultProvider;
    const similarity = answer.layerHeaders?.["x-isartor-similarity"];
    if (similarity !== undefined) base.similarity = Number(similarity);
    const optimised = answer.layerHeaders?.["x-isartor-context-optimized"];
    if (optimised !== undefined) base.optimisedTokens = Number(optimised);
    const body = answer.body;
    if (body.kind === "recording") {
      this.#finish(base, usageOfEvents(body.recording.events), ctx);
    } else if (body.kind === "events") {
      this.#finish(base, usageOfEvents(body.events), ctx);
    } else if (body.kind === "json") {
      this.#finish(base, answer.status < 400 ? usageOfJson(body.bytes) : null, ctx);
    } else {
      const stream = tapSseUsage(body.stream, (usage) => this.#finish(base, usage, ctx));
      return { ...answer, body: { kind: "sse", stream } };
    }
    return answer;
  }

  /** Whether `error` was already counted by {@linkcode failed}. */
  counted(error: unknown): boolean {
    return typeof error === "object" && error !== null && this.#countedErrors.has(error);
  }

  /**
   * Marks an error as counted: its request was already recorded (answered, with
   * the upstream's error status), so the edge that answers it must not count it again.
   */
  markCounted(error: object): void {
    this.#countedErrors.add(error);
  }

  /**
   * Records a request the gateway answered with an error of its own. Pass the
   * error when it travels on to another handler, which then does not count it again.
   */
  failed(
    req: { protocol: string; model?: string; stream?: boolean; headers: Headers },
    ctx: RequestContext,
    status: number,
    error?: unknown,
  ): void {
    if (typeof error === "object" && error !== null) this.#countedErrors.add(error);
    this.#finish(
      {
        time: Date.now() - (performance.now() - ctx.startedAt),
        tool: detectClientTool(req.headers),
        route: req.protocol,
        model: req.model ?? "",
        layer: "gateway",
        status,
        latencyMs: performance.now() - ctx.startedAt,
        provider: "",
        stream: req.stream ?? false,
        tenant: ctx.tenant,
      },
      null,
      ctx,
    );
  }

  #base(req: ChatRequest, ctx: RequestContext, layer: string, status: number): RequestRecord {
    const latencyMs = performance.now() - ctx.startedAt;
    return {
      time: Date.now() - latencyMs,
      tool: detectClientTool(req.headers),
      route: req.protocol,
      model: req.model,
      layer,
      status,
      latencyMs,
      provider: "",
      stream: req.stream,
      tenant: ctx.tenant,
    };
  }

  #finish(r: RequestRecord, usage: Partial<Usage> | null, ctx: RequestContext): void {
    if (usage) {
      r.inputTokens = usage.inputTokens;
      r.outputTokens = usage.outputTokens;
      r.cachedTokens = usage.cacheReadTokens;
      // Only provider answers spend a key's token quota; cache hits cost nothing upstream.
      if (r.layer === "l3" && ctx.charge) {
        ctx.charge((usage.inputTokens ?? 0) + (usage.outputTokens ?? 0));
      }
    }
    this.stats.record(r);
    this.timeline?.record(r);
    this.metrics?.record(r, this.stats.savedCost(r));
    this.log?.append(r, ctx.requestId);
    if (ctx.trace instanceof RequestTrace) ctx.trace.finish(r);
  }

  /** Writes the stats and the request log a last time. */
  async close(): Promise<void> {
    await Promise.all([this.stats.close(), this.log?.close()]);
  }
}

/** Whether a data directory exists and is usable (never created here: `isartor up` does that). */
function usableDir(dir: string): boolean {
  if (dir.startsWith("~")) return false;
  try {
    return Deno.statSync(dir).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Builds the recorder from config: stats persisted in `<data_dir>/stats.json`
 * and, with `log_requests`, the request log in `<data_dir>/requests.jsonl`.
 * Without a usable data directory, the stats stay in memory.
 */
export function createRecorder(
  config: Config,
  defaultProvider: string,
  metrics: Metrics | null = null,
): Recorder {
  const dir = config.data_dir.replace(/[\\/]+$/, "");
  const persist = usableDir(dir);
  const prices = resolvePrices(config.provider_prices);
  const stats = new Stats({
    prices,
    path: persist ? `${dir}/${STATS_FILE}` : null,
  });
  const log = persist && config.log_requests
    ? new RequestLog({ path: `${dir}/${REQUEST_LOG_FILE}` })
    : null;
  return new Recorder(stats, log, defaultProvider, new Timeline(prices), metrics);
}
